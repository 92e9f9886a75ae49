"""The server reads like the reference predictor, and batching does not change what it reads."""
import json
import os

import cv2
import pytest

from conftest import ROOT, client, running_server
from predictor import Predictor, decode_image


def sample_images(val_dir, per_subset=15):
    images = sorted((ROOT / "tests" / "data" / "lines").glob("*.png"))
    for subset in ("clean", "degraded"):
        images += sorted((val_dir / subset).glob("*.png"))[:per_subset]
    return images


def test_server_answers_like_the_reference_predictor(bundle, val_dir):
    """One line per batch on both sides (dynamic quantization depends on the batch):
    identical text, confidences within 1e-4."""
    images = sample_images(val_dir)
    reference = Predictor(str(bundle))
    with running_server(bundle, "--max_batch_size", "1", "--workers", "1") as target:
        out = client("recognize", "--json", "--target", target, *images)
    served = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert len(served) == len(images)
    for path, got in zip(images, served):
        want = reference.recognize([decode_image(path.read_bytes())])[0]
        assert got["text"] == want.text, path
        assert got["confidence"] == pytest.approx(want.confidence, abs=1e-4), path
        assert got["char_confidences"] == pytest.approx(want.char_confidences, abs=1e-4), path


def test_raw_pixels_read_like_the_encoded_file(bundle):
    images = sorted((ROOT / "tests" / "data" / "lines").glob("*.png"))
    with running_server(bundle) as target:
        encoded = client("recognize", "--target", target, *images)
        raw = client("recognize", "--raw", "--target", target, *images)
    assert encoded == raw and encoded.strip()


@pytest.mark.parametrize("subset", ["clean", "degraded"])
def test_dynamic_batching_keeps_the_validation_cer(bundle, val_dir, subset):
    """CER with dynamic batching (8 concurrent callers) within 0.05 points of CER at batch size 1."""
    if not Predictor(str(bundle)).manifest["evaluation"].get("variants"):
        pytest.skip("an untrained bundle reads noise; this needs the trained default bundle")
    labels = val_dir / subset / "labels.tsv"
    results = {}
    for name, flags, concurrency in (("batched", ["--max_batch_size", "8", "--max_queue_delay_us", "5000"], 8),
                                     ("single", ["--max_batch_size", "1"], 1)):
        with running_server(bundle, *flags) as target:
            report = json.loads(client("eval", "--json", "--labels", labels, "--concurrency", concurrency,
                                       "--target", target))
        results[name] = report
    cer = {k: v["cer_percent"] for k, v in results.items()}
    assert abs(cer["batched"] - cer["single"]) <= 0.05, results

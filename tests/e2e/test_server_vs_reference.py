"""The server reads like the reference predictor, and batching does not change what it reads."""
import json

import cv2
import pytest

from server_process import ROOT, SAMPLE_LINES, client, running_server
from predictor import Predictor, decode_image


def sample_images(val_dir, per_subset=15):
    images = list(SAMPLE_LINES)
    for subset in ("clean", "degraded"):
        images += sorted((val_dir / subset).glob("*.png"))[:per_subset]
    return images


def test_server_answers_like_the_reference_predictor(bundle, val_dir):
    """Identical text, confidences within 1e-4, one line per batch on the server."""
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
    images = list(SAMPLE_LINES)
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


def test_long_lines_are_read_in_pieces_like_the_reference(bundle, tmp_path):
    """Paragraph lines of 90-120 characters: the server cuts, reads and joins them as the
    predictor does (same text, confidences within 1e-4); with the trained bundle the
    joined readings keep the CER low."""
    from vocr_train.data import paragraph_lines
    from vocr_train.evaluate import score

    lines = paragraph_lines(str(ROOT / "model" / "build" / "cache"), 4, seed=11)
    paths = []
    for i, (image, _) in enumerate(lines):
        paths.append(tmp_path / f"long{i}.png")
        cv2.imwrite(str(paths[-1]), image)
    reference = Predictor(str(bundle))
    with running_server(bundle) as target:
        served = [json.loads(l) for l in client("recognize", "--json", "--target", target, *paths).splitlines() if l]
    want = reference.recognize([image for image, _ in lines])
    assert [s["text"] for s in served] == [w.text for w in want]
    for got, ref in zip(served, want):
        assert got["confidence"] == pytest.approx(ref.confidence, abs=1e-4)
    if reference.manifest["evaluation"].get("variants"):
        assert score([t for _, t in lines], [s["text"] for s in served])["cer"] < 10

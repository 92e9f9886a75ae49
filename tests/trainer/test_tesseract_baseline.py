"""The Tesseract baseline runs on a validation set and is scored like our model."""
import shutil

import pytest

from vocr_train import data, pipeline
from vocr_train.tesseract_baseline import evaluate_tesseract, read_lines
from vocr_train.tiny_bundle import TINY_CONFIG

pytestmark = pytest.mark.skipif(not shutil.which("tesseract"), reason="tools/install-deps.sh installs tesseract")


def test_every_subset_is_scored_with_one_reading_per_line(cache_dir, tmp_path):
    cfg = pipeline.load_config(TINY_CONFIG)
    data.write_val_set(cfg, cache_dir, str(tmp_path))
    result = evaluate_tesseract(str(tmp_path))
    assert result["engine"].startswith("tesseract 5") and result["bytes"] > 100_000
    assert set(result["subsets"]) == set(data.SUBSETS)
    for subset, figures in result["subsets"].items():
        assert figures["lines"] == cfg["data"]["val_lines"][subset]
        assert figures["lines_per_s"] > 0
    # Clean synthetic lines are Tesseract's best case: it reads most characters.
    assert result["subsets"]["clean"]["cer"] < 40


def test_readings_stay_in_image_order_around_a_blank_image(tmp_path):
    import cv2
    import numpy as np

    paths = []
    for i, text in enumerate(("HELLO 2024", "", "WORLD 7")):
        image = np.full((48, 360), 255, np.uint8)
        cv2.putText(image, text, (8, 38), cv2.FONT_HERSHEY_SIMPLEX, 1.2, 0, 2)
        paths.append(str(tmp_path / f"{i}.png"))
        cv2.imwrite(paths[-1], image)
    readings = read_lines(paths)
    assert len(readings) == 3
    assert "HELLO" in readings[0] and "WORLD" in readings[2], readings
    assert not any(c.isalnum() for c in readings[1]), readings

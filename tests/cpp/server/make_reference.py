#!/usr/bin/python3
"""Reference data for the C++ core's unit tests, from model/predictor.py.

    /usr/bin/python3 tests/cpp/server/make_reference.py --bundle DIR --out DIR

Writes a few deterministic line images (PNG), the reference predictor's
preprocessed tensor for each (raw little-endian float32, [C, H, W]) and its
readings of each image alone and of two batches (same width; mixed widths),
so the C++ tests can check bitwise-equal preprocessing and identical decoding.
Long lines (wider than the model takes) come with the predictor's cut
(split_columns) and its joined reading of the pieces.
"""
import argparse
import json
import os
import sys

import cv2
import numpy as np
import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "model"))
import predictor  # noqa: E402


def line_image(rng, height, width, channels, text):
    """A noisy, text-like line: background, strokes from putText, noise."""
    base = rng.integers(150, 256)
    image = np.full((height, width), base, np.uint8)
    cv2.putText(image, text, (2, int(height * 0.75)), cv2.FONT_HERSHEY_SIMPLEX, height / 40.0, int(base) - 140, 1,
                cv2.LINE_AA)
    noise = rng.normal(0, 12, image.shape)
    image = np.clip(image.astype(np.float64) + noise, 0, 255).astype(np.uint8)
    if channels == 3:
        image = np.dstack([image, np.roll(image, 1, axis=1), np.roll(image, 2, axis=0)])
    elif channels == 4:
        alpha = np.full((height, width), 255, np.uint8)
        image = np.dstack([image, np.roll(image, 1, axis=1), image, alpha])
    return image


# name, height, width, channels, text
IMAGES = [
    ("same_a", 32, 128, 1, "Xin chao 123"),
    ("same_b", 32, 128, 1, "Ha Noi, 2024"),
    ("same_c", 32, 128, 1, "so 7 duong"),
    ("shrink_bgr", 48, 300, 3, "Thanh pho Ho Chi Minh"),
    ("grow_gray", 20, 90, 1, "Da Nang"),
    ("bgra_odd", 40, 77, 4, "Hue"),
]


# name, height, width, channels, text: wider than max_width once scaled
LONG_IMAGES = [
    ("long_gray", 32, 1500, 1, "Cong hoa xa hoi chu nghia Viet Nam, doc lap tu do hanh phuc, so 12 duong Le Loi 2024"),
    ("long_tall_bgr", 50, 2600, 3, "Thanh pho Ho Chi Minh, ngay 25 thang 11 nam 2026, so 0912 345 678, quan 1"),
]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bundle", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(1)
    p = predictor.Predictor(args.bundle, threads=1)
    rng = np.random.default_rng(1234)
    images, entries = [], []
    for name, h, w, c, text in IMAGES:
        image = line_image(rng, h, w, c, text)
        path = os.path.join(args.out, name + ".png")
        ok, data = cv2.imencode(".png", image)
        assert ok
        with open(path, "wb") as f:
            f.write(data.tobytes())
        # The predictor's own path: decode the file's bytes, then preprocess.
        decoded = predictor.decode_image(data.tobytes())
        x = p.prepare(decoded)
        x.astype("<f4").tofile(os.path.join(args.out, name + ".f32"))
        images.append(decoded)
        entries.append({"name": name, "png": name + ".png", "tensor": name + ".f32", "shape": list(x.shape)})

    def readings(rs):
        return [{"text": r.text, "confidence": r.confidence, "char_confidences": r.char_confidences} for r in rs]

    alone = [readings(p.recognize([im]))[0] for im in images]
    batches = []
    for indices in ([0, 1, 2], list(range(len(images)))):
        batches.append({"indices": indices, "readings": readings(p.recognize([images[i] for i in indices]))})
    long_lines = []
    for name, h, w, c, text in LONG_IMAGES:
        image = line_image(rng, h, w, c, text)
        ok, data = cv2.imencode(".png", image)
        assert ok
        with open(os.path.join(args.out, name + ".png"), "wb") as f:
            f.write(data.tobytes())
        decoded = predictor.decode_image(data.tobytes())
        spans = predictor.split_columns(predictor.to_gray(decoded, p.manifest["input"]), p.manifest["input"])
        long_lines.append({"name": name, "png": name + ".png", "spans": [list(s) for s in spans],
                           "reading": readings(p.recognize([decoded]))[0]})
    with open(os.path.join(args.out, "reference.json"), "w", encoding="utf-8") as f:
        json.dump({"bundle": p.dir, "images": entries, "alone": alone, "batches": batches, "long_lines": long_lines},
                  f, ensure_ascii=False, indent=1)
    print(os.path.join(args.out, "reference.json"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

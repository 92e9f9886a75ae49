#!/usr/bin/python3
"""Reference data for the C++ core's unit tests, from model/predictor.py.

    /usr/bin/python3 tests/cpp/server/make_reference.py --bundle DIR --out DIR

Writes a few deterministic line images (PNG), the reference predictor's
preprocessed tensor for each (raw little-endian float32, [C, H, W]) and its
readings of each image alone and of two batches (same width; mixed widths),
so the C++ tests can check bitwise-equal preprocessing and identical decoding
at the same batch composition (dynamic quantization picks activation scales
per call, so readings are only comparable batch for batch).
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
    with open(os.path.join(args.out, "reference.json"), "w", encoding="utf-8") as f:
        json.dump({"bundle": p.dir, "images": entries, "alone": alone, "batches": batches}, f, ensure_ascii=False,
                  indent=1)
    print(os.path.join(args.out, "reference.json"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Scoring: character error rate, word error rate and exact-line accuracy.

CER is the summed Levenshtein distance over the summed reference length
(corpus-level, the usual OCR definition), in percent.
"""
import time
from typing import Dict, List, Sequence, Tuple

import cv2
import numpy as np

from predictor import read_sorted
from vocr_train.data import read_labels


def edit_distance(a: Sequence, b: Sequence) -> int:
    """Levenshtein distance with a single rolling row."""
    if len(a) < len(b):
        a, b = b, a
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def score(refs: Sequence[str], hyps: Sequence[str]) -> Dict[str, float]:
    chars = sum(len(r) for r in refs)
    words = sum(len(r.split()) for r in refs)
    char_errors = sum(edit_distance(r, h) for r, h in zip(refs, hyps))
    word_errors = sum(edit_distance(r.split(), h.split()) for r, h in zip(refs, hyps))
    exact = sum(r == h for r, h in zip(refs, hyps))
    return {
        "cer": 100.0 * char_errors / max(1, chars),
        "wer": 100.0 * word_errors / max(1, words),
        "line_acc": 100.0 * exact / max(1, len(refs)),
        "lines": len(refs),
    }


def load_subset(folder: str, limit: int = 0) -> Tuple[List[np.ndarray], List[str]]:
    pairs = read_labels(folder, limit)
    images = [cv2.imread(path, cv2.IMREAD_UNCHANGED) for path, _ in pairs]
    return images, [text for _, text in pairs]


def evaluate(cnn, seq, manifest: dict, subsets: Dict[str, Tuple[List[np.ndarray], List[str]]],
             batch_size: int = 32) -> Dict[str, Dict[str, float]]:
    """Score each subset; `subsets` maps a name to (images, texts)."""
    results = {}
    for name, (images, texts) in subsets.items():
        start = time.perf_counter()
        readings = read_sorted(cnn, seq, manifest, images, batch_size)
        results[name] = score(texts, [r.text for r in readings])
        results[name]["seconds"] = time.perf_counter() - start
    return results

"""Scoring: character error rate, word error rate and exact-line accuracy.

CER is the summed Levenshtein distance over the summed reference length
(corpus-level, the usual OCR definition), in percent.
"""
import re
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


def words(text: str) -> List[str]:
    """Words split at ASCII whitespace, as the C++ client's scorer splits them (a no-break space joins)."""
    return [w for w in re.split(r"[ \t\n\r\v\f]+", text) if w]


def percent(errors: int, total: int) -> float:
    """errors over total in percent; with nothing to read, 0 without errors and 100 with any."""
    if total == 0:
        return 0.0 if errors == 0 else 100.0
    return 100.0 * errors / total


def score(refs: Sequence[str], hyps: Sequence[str]) -> Dict[str, float]:
    """The rule of tests/data/scoring_cases.json, which the C++ client's scorer follows too."""
    chars = sum(len(r) for r in refs)
    n_words = sum(len(words(r)) for r in refs)
    char_errors = sum(edit_distance(r, h) for r, h in zip(refs, hyps))
    word_errors = sum(edit_distance(words(r), words(h)) for r, h in zip(refs, hyps))
    exact = sum(r == h for r, h in zip(refs, hyps))
    return {
        "cer": percent(char_errors, chars),
        "wer": percent(word_errors, n_words),
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

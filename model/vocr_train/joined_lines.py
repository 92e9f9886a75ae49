"""Longer lines from validation lines: two of them side by side with a word gap.

The validation subsets hold lines of at most `data.max_chars` characters;
joined pairs reach 40-70+, the lengths of document lines, and the widest
take the long-line path (cut into pieces, read, joined) in the server and
the predictor alike.
"""
import os
import random
from typing import List, Sequence, Tuple

import cv2
import numpy as np

from vocr_train.data import read_labels


def join_side_by_side(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Two line images at a common height with a gap of the background's colour."""
    a = a if a.ndim == 3 else cv2.cvtColor(a, cv2.COLOR_GRAY2BGR)
    b = b if b.ndim == 3 else cv2.cvtColor(b, cv2.COLOR_GRAY2BGR)
    h = max(a.shape[0], b.shape[0])
    a = cv2.resize(a, (max(1, round(a.shape[1] * h / a.shape[0])), h))
    b = cv2.resize(b, (max(1, round(b.shape[1] * h / b.shape[0])), h))
    background = np.median(np.concatenate([a[:, -2:].reshape(-1, 3), b[:, :2].reshape(-1, 3)]), 0)
    gap = np.tile(background.astype(np.uint8), (h, max(2, h // 2), 1))
    return np.concatenate([a, gap, b], 1)


def write_joined(pairs: Sequence[Tuple[str, str]], count: int, out_dir: str, prefix: str,
                 seed: int = 7) -> List[Tuple[str, str]]:
    """Joins `count` random disjoint pairs of (image path, text); writes the
    PNGs under out_dir and returns (path, text) of each joined line."""
    chosen = random.Random(seed).sample(list(pairs), min(len(pairs), 2 * count))
    os.makedirs(out_dir, exist_ok=True)
    joined = []
    for i in range(0, len(chosen) - 1, 2):
        (pa, ta), (pb, tb) = chosen[i], chosen[i + 1]
        image = join_side_by_side(cv2.imread(pa, cv2.IMREAD_UNCHANGED), cv2.imread(pb, cv2.IMREAD_UNCHANGED))
        path = os.path.join(out_dir, f"{prefix}-joined-{i // 2:04d}.png")
        cv2.imwrite(path, image)
        joined.append((path, f"{ta} {tb}"))
    return joined


def joined_subset(val_dir: str, subsets: Sequence[str], per_subset: int, out_dir: str) -> List[Tuple[str, str]]:
    """`per_subset` joined pairs of each subset, written as a labelled
    subset of its own (labels.tsv in out_dir, as the validation subsets)."""
    lines = []
    for subset in subsets:
        lines += write_joined(read_labels(os.path.join(val_dir, subset)), per_subset, out_dir, subset)
    with open(os.path.join(out_dir, "labels.tsv"), "w", encoding="utf-8") as f:
        f.writelines(f"{os.path.basename(p)}\t{t}\n" for p, t in lines)
    return lines

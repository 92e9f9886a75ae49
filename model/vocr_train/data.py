"""Synthetic training batches on the fly, and the fixed validation set on disk.

Training images are rendered inside DataLoader workers, never stored. Each
worker renders a pool of lines, sorts it by width and cuts it into batches,
so a batch wastes little compute on padding. Everything is drawn from
generators seeded by (seed, chunk number), so a run is reproducible and a
resumed run continues with fresh, still deterministic data.

The validation set is written once as PNG files plus `labels.tsv` per subset
(see `SUBSETS`), rendered with validation fonts and validation text only, so
its figures measure generalisation; the server's client evaluates the same
files.
"""
import itertools
import os
import random
from typing import Dict, Iterator, List, Tuple

import cv2
import numpy as np
import torch
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from predictor import pad_batch, padded_width, preprocess
from vocr_train.render import render_line, scan_fonts
from vocr_train.text_sampler import DEFAULT_WEIGHTS, TextSampler
from vocr_train.vocab import Vocab

# Validation subsets: what text is drawn (TextSampler weights and caps rate)
# and how it is rendered (render modes, one drawn per line; the renderer,
# Pillow unless named).
SUBSET_SPECS = {
    "clean": {"modes": ["clean"]},
    "degraded": {"modes": ["degraded"]},
    # ALL-CAPS names and addresses, half clean and half degraded prints.
    "caps": {"weights": {"name": 1, "address": 1}, "caps_rate": 1.0, "modes": ["clean", "degraded"]},
    # Numbers and dates: dates, ID numbers, phone numbers, amounts of money.
    "numbers": {"weights": {"date": 1, "id": 1, "phone": 1, "money": 1}, "modes": ["clean", "degraded"]},
    # Photo and scan conditions; ID-card style "label: value" fields weigh more.
    "hard": {"weights": {"prose": 30, "words": 5, "name": 10, "address": 10, "date": 8, "id": 8, "phone": 5,
                         "money": 4, "code": 4, "field": 25}, "modes": ["hard"]},
    # Lines of documents: 40-90 characters, so many are wider than the model's
    # maximum width and are read in pieces (the long-line path).
    "long": {"weights": {"prose": 6, "words": 1, "address": 1, "field": 1, "tech": 2}, "min_chars": 40,
             "max_chars": 90, "modes": ["clean", "degraded"]},
    # Paths, commands, identifiers, URLs, versions, amounts with units, English.
    "tech": {"weights": {"tech": 1}, "modes": ["clean", "degraded"]},
    # Drawn only by the second renderer (Pango and Cairo: other shaping,
    # hinting, spacing, neighbouring lines), so it measures how well reading
    # carries over to a rasterizer other than Pillow's.
    "pango": {"weights": {"prose": 6, "words": 1, "address": 1, "field": 1, "tech": 2, "money": 1, "date": 1},
              "modes": ["clean", "clean", "degraded"], "renderer": "pango"},
}
SUBSETS = tuple(SUBSET_SPECS)
POOL_BATCHES = 4  # batches per width-sorted pool


def font_families(cache_dir: str, split: str) -> List[List[str]]:
    """Font files grouped by family, so sampling a family first keeps families
    with dozens of styles from crowding out those with one."""
    scan = scan_fonts(Vocab().chars, cache_dir)
    return [f["paths"] for _, f in sorted(scan["families"].items()) if f["split"] == split]


def pick_font(families: List[List[str]], rng: np.random.Generator) -> str:
    family = families[int(rng.integers(len(families)))]
    return family[int(rng.integers(len(family)))]


def render_sample(text: str, font: str, mode: str, rng: np.random.Generator, spec: dict) -> np.ndarray:
    rgb = render_line(text, font, rng, mode)
    return preprocess(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), spec)


def fit_width(text: str, font: str, mode: str, rng: np.random.Generator, spec: dict,
              renderer: str = "pil", tries: int = 3) -> Tuple[np.ndarray, str]:
    """A rendered line (gray) and its text, cut at a word boundary until it fits the
    model's maximum width once scaled to its height, as every line and every piece
    the server reads does: a longer one would be squeezed, which no reading sees."""
    gray = cv2.cvtColor(render_line(text, font, rng, mode, renderer), cv2.COLOR_RGB2GRAY)
    for _ in range(tries):
        h, w = gray.shape
        scaled = w * spec["height"] / h
        cut = text.rfind(" ", 0, int(len(text) * 0.97 * spec["max_width"] / scaled) + 1)
        if scaled <= spec["max_width"] or cut <= 0:
            break
        text = text[:cut].rstrip(" ,;:|-")
        gray = cv2.cvtColor(render_line(text, font, rng, mode, renderer), cv2.COLOR_RGB2GRAY)
    return gray, text


def pick_share(shares: Dict[str, float], rng: np.random.Generator) -> str:
    """A key of `shares` ({name: weight}) drawn in proportion to its weight."""
    names = list(shares)
    cum = np.cumsum([shares[n] for n in names]) / sum(shares.values())
    return names[min(int(np.searchsorted(cum, rng.random(), side="right")), len(names) - 1)]


def collate(samples: List[Tuple[np.ndarray, List[int]]], vocab: Vocab, spec: dict) -> Dict[str, torch.Tensor]:
    """Pad images on the right and targets with pad; inputs are sos + target. The
    batch is at least as wide as its widest line padded as the predictor and the
    server pad it (padded_width), so training sees the padding they add."""
    widest = padded_width(max(s[0].shape[2] for s in samples), spec)
    images, widths = pad_batch([s[0] for s in samples], spec.get("pad_value", 0.0), widest)
    length = max(len(s[1]) for s in samples) + 1
    targets = torch.full((len(samples), length), vocab.pad, dtype=torch.int64)
    inputs = torch.full((len(samples), length), vocab.pad, dtype=torch.int64)
    for i, (_, ids) in enumerate(samples):
        targets[i, : len(ids) + 1] = torch.tensor(ids + [vocab.eos])
        inputs[i, : len(ids) + 1] = torch.tensor([vocab.sos] + ids)
    return {"images": images, "widths": widths, "inputs": inputs, "targets": targets}


class TrainStream(IterableDataset):
    """Endless stream of training batches; chunk k is a pure function of (seed, k)."""

    def __init__(self, cfg: dict, spec: dict, cache_dir: str, start_chunk: int = 0):
        super().__init__()
        self.cfg, self.spec, self.cache_dir, self.start_chunk = cfg, spec, cache_dir, start_chunk

    def __iter__(self) -> Iterator[Dict[str, torch.Tensor]]:
        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info else (0, 1)
        vocab = Vocab()
        data = self.cfg["data"]
        families = font_families(self.cache_dir, "train")
        sampler = TextSampler("train", vocab.chars, self.cache_dir, max_chars=data["max_chars"],
                              weights=dict(DEFAULT_WEIGHTS, **data.get("kind_weights", {})),
                              caps_by_kind=data.get("caps_by_kind"), symbols_rate=data.get("symbols_rate", 0.0))
        batch = self.cfg["train"]["batch_size"]
        renderers = data.get("renderers", {"pil": 1})  # renderer -> share of training lines
        # A fine-tuning run sets its own stream seed so it sees lines its
        # starting model has not, while the validation set (drawn from `seed`)
        # stays the one earlier runs were measured on.
        seed = data.get("stream_seed", self.cfg["seed"])
        chunk = self.start_chunk + worker
        while True:
            rng = np.random.default_rng([seed, chunk])
            text_rng = random.Random(f"{seed}-{chunk}")
            pool = []
            for _ in range(batch * POOL_BATCHES):
                text, _kind = sampler.sample(text_rng)
                mode = pick_share(data["modes"], rng)
                renderer = pick_share(renderers, rng)
                gray, text = fit_width(text, pick_font(families, rng), mode, rng, self.spec, renderer)
                pool.append((preprocess(gray, self.spec), vocab.encode(text)))
            pool.sort(key=lambda s: s[0].shape[2])
            order = rng.permutation(POOL_BATCHES)
            for b in order:
                yield collate(pool[b * batch : (b + 1) * batch], vocab, self.spec)
            chunk += workers


def init_worker(_worker_id: int) -> None:
    """Workers render images; one thread each leaves the cores to training."""
    torch.set_num_threads(1)
    cv2.setNumThreads(1)


def train_loader(cfg: dict, spec: dict, cache_dir: str, step: int) -> Iterator[Dict[str, torch.Tensor]]:
    """Batches from `step` on, the same ones an uninterrupted run would see there.

    With W workers the DataLoader takes one batch from each worker in turn,
    and each worker walks its own chunks of POOL_BATCHES batches: after
    POOL_BATCHES * W batches every worker has used exactly one chunk. So a
    resumed stream restarts at the last such boundary and skips the rest.
    """
    workers = cfg["data"]["workers"]
    cycle = POOL_BATCHES * max(1, workers)
    base = step - step % cycle
    stream = TrainStream(cfg, spec, cache_dir, start_chunk=base // POOL_BATCHES)
    loader = DataLoader(stream, batch_size=None, num_workers=workers, persistent_workers=workers > 0,
                        prefetch_factor=4 if workers else 2, worker_init_fn=init_worker if workers else None)
    return itertools.islice(iter(loader), step - base, None)


def write_val_set(cfg: dict, cache_dir: str, out_dir: str) -> Dict[str, int]:
    """Render the fixed validation set as PNG files with labels.tsv and meta.tsv per subset."""
    vocab = Vocab()
    families = font_families(cache_dir, "val")
    counts = {}
    for s, subset in enumerate(SUBSETS):
        spec = SUBSET_SPECS[subset]
        sampler = TextSampler("val", vocab.chars, cache_dir, min_chars=spec.get("min_chars", 1),
                              max_chars=spec.get("max_chars", cfg["data"]["max_chars"]),
                              weights=spec.get("weights"), caps_rate=spec.get("caps_rate"))
        folder = os.path.join(out_dir, subset)
        os.makedirs(folder, exist_ok=True)
        rng = np.random.default_rng([cfg["seed"], 1_000_000 + s])
        text_rng = random.Random(f"val-{cfg['seed']}-{subset}")
        labels, meta = [], []
        for i in range(cfg["data"]["val_lines"][subset]):
            text, kind = sampler.sample(text_rng)
            font = pick_font(families, rng)
            mode = spec["modes"][int(rng.integers(len(spec["modes"])))]
            rgb = render_line(text, font, rng, mode, spec.get("renderer", "pil"))
            name = f"{i:05d}.png"
            cv2.imwrite(os.path.join(folder, name), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
            labels.append(f"{name}\t{text}\n")
            meta.append(f"{name}\t{kind}\t{mode}\t{os.path.basename(font)}\n")
        with open(os.path.join(folder, "labels.tsv"), "w", encoding="utf-8") as f:
            f.writelines(labels)
        with open(os.path.join(folder, "meta.tsv"), "w", encoding="utf-8") as f:
            f.writelines(meta)
        counts[subset] = len(labels)
    return counts


def paragraph_lines(cache_dir: str, count: int, seed: int) -> List[Tuple[np.ndarray, str]]:
    """Clean gray images of whole paragraph lines (90-120 characters, validation
    text and fonts), far wider than the model's maximum width: for the tests
    of reading long lines in pieces."""
    sampler = TextSampler("val", Vocab().chars, cache_dir, min_chars=90, max_chars=120, weights={"prose": 1})
    families = font_families(cache_dir, "val")
    rng, text_rng = np.random.default_rng(seed), random.Random(seed)
    lines = []
    for _ in range(count):
        text, _ = sampler.sample(text_rng)
        rgb = render_line(text, pick_font(families, rng), rng, "clean")
        lines.append((cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), text))
    return lines


def read_labels(folder: str, limit: int = 0) -> List[Tuple[str, str]]:
    """(image path, text) pairs from a subset's labels.tsv."""
    pairs = []
    with open(os.path.join(folder, "labels.tsv"), encoding="utf-8") as f:
        for line in f:
            name, text = line.rstrip("\n").split("\t", 1)
            pairs.append((os.path.join(folder, name), text))
    return pairs[:limit] if limit else pairs

"""Training throughput (images/s) of model options, on fixed random batches.

    cd model && /usr/bin/python3 -m vocr_train.bench_train [--steps 6] [--threads 2]

Random tensors isolate the model's compute from data generation (the data
stream's own rate is printed by `--data`). Each option runs `steps` timed
steps after one warm-up step, several rounds interleaved so machine noise hits
every option alike; the median per option and its ratio to the baseline (the
first option) are printed.
"""
import argparse
import copy
import json
import os
import statistics
import time

import torch

from vocr_train.model import OcrModel, count_parameters
from vocr_train.train import sequence_loss
from vocr_train.vocab import MODEL_DIR, Vocab

NARROW = [[[16], [2, 2]], [[32], [2, 2]], [[64, 64], [2, 1]], [[128, 128], [2, 1]], [[192], [2, 1]]]
WIDE = [[[32], [2, 2]], [[64], [2, 2]], [[128, 128], [2, 1]], [[256, 256], [2, 1]], [[256], [2, 1]]]


def options(cfg: dict) -> dict:
    """Name -> (config, channels_last, width of the batch)."""
    def variant(**model):
        c = copy.deepcopy(cfg)
        c["model"].update(model)
        return c
    return {
        "default": (cfg, False, 256),
        "default channels_last": (cfg, True, 256),
        "narrow CNN": (variant(cnn_stages=NARROW), False, 256),
        "wide CNN": (variant(cnn_stages=WIDE), False, 256),
        "default, 128 px lines": (cfg, False, 128),
        "default, 512 px lines": (cfg, False, 512),
    }


def make_step(cfg: dict, channels_last: bool, width: int, batch: int):
    vocab = Vocab()
    torch.manual_seed(0)
    model = OcrModel(cfg, len(vocab)).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    chars = max(4, width // 12)  # about one character per 12 px at height 32
    images = torch.randn(batch, cfg["input"]["channels"], cfg["input"]["height"], width)
    if channels_last:
        model.to(memory_format=torch.channels_last)
        images = images.to(memory_format=torch.channels_last)
    widths = torch.full((batch,), width, dtype=torch.int64)
    targets = torch.randint(vocab.first, len(vocab), (batch, chars + 1))
    inputs = torch.cat([torch.full((batch, 1), vocab.sos), targets[:, :-1]], 1)

    def step():
        loss = sequence_loss(model(images, widths, inputs), targets, vocab.pad, 0.0)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step, count_parameters(model)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default=os.path.join(MODEL_DIR, "configs", "default.json"))
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=32)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    with open(args.config) as f:
        cfg = json.load(f)
    steps = {}
    for name, (c, cl, width) in options(cfg).items():
        fn, params = make_step(c, cl, width, args.batch)
        fn()  # warm-up
        steps[name] = (fn, params)
    rates = {name: [] for name in steps}
    for _ in range(args.rounds):
        for name, (fn, _) in steps.items():
            start = time.perf_counter()
            for _ in range(args.steps):
                fn()
            rates[name].append(args.steps * args.batch / (time.perf_counter() - start))
    base = statistics.median(rates["default"])
    print(f"{'option':28s} {'params':>10s} {'images/s':>9s} {'ratio':>6s}   (batch {args.batch}, {args.threads} threads)")
    for name, r in rates.items():
        med = statistics.median(r)
        print(f"{name:28s} {steps[name][1]:10,d} {med:9.1f} {med / base:6.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

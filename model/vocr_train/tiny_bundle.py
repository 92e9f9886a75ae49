"""A tiny bundle in exactly the shipped format, in seconds, for server tests.

    cd model && /usr/bin/python3 -m vocr_train.tiny_bundle [--out build/tiny-repository]

Untrained weights (it reads nonsense) but every real step runs: fuse,
prepare_qat, a few fake-quant forward passes so the observers see activation
ranges, convert to int8, quantize_dynamic, script, manifest. Tests that need
readable output use the trained default bundle instead.
"""
import argparse
import os
import sys

import torch

from vocr_train import quantize
from vocr_train.export import export_bundle
from vocr_train.pipeline import load_config, new_model, shipped_dir
from vocr_train.vocab import MODEL_DIR

TINY_CONFIG = os.path.join(MODEL_DIR, "configs", "tiny.json")


def quantized_tiny_model(cfg: dict):
    """(int8 CNN, dynamic-int8 seq, fp32 model) of an untrained model, through the real steps."""
    model = new_model(cfg)
    fp32 = new_model(cfg).eval()  # same seed, same weights: the fp32 reference
    quantize.prepare_qat_backbone(model.backbone, cfg["engine"])
    spec = cfg["input"]
    generator = torch.Generator().manual_seed(cfg["seed"])
    images = [torch.rand(4, spec["channels"], spec["height"], width, generator=generator) * 2 - 1
              for width in (64, 128, 256)]
    with torch.no_grad():
        for batch in images:  # let the observers see a few activation ranges
            model.backbone(batch)
    cnn = quantize.convert_backbone(model.backbone)
    return cnn, quantize.dynamic_seq(fp32.seq, quantize.feature_bound(cnn, images)), fp32


def make_tiny_bundle(repository: str = "") -> str:
    cfg = load_config(TINY_CONFIG)
    if repository:
        cfg["paths"]["repository"] = os.path.abspath(repository)
    cnn, seq, fp32 = quantized_tiny_model(cfg)
    out = shipped_dir(cfg)
    export_bundle(out, cfg, cnn, seq, fp32.backbone, fp32.seq, "qat", "dynamic", cfg["engine"],
                  training={"note": "untrained tiny bundle for tests", "config": cfg["source"]}, with_length_head=True)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="", help="repository directory (default: the tiny config's)")
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    print(make_tiny_bundle(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Where the int8 CNN's time goes: per layer, its MACs, its time and its achieved GMAC/s.

    /usr/bin/python3 tools/profile_cnn.py [--bundle model/repository/vocr_line] [--width 400] [--batch 1,8]

Runs the bundle's cnn.pt layer by layer (the scripted modules the server
calls as one forward) on one thread, on a line `--width` pixels wide at the
model's height, and prints each layer's median time over --repeats runs,
its multiply-accumulates and the rate it achieves. The reference rate is a
large int8 3x3 convolution run by the same library on the same thread (the
best this CPU gives such a kernel here), so "of best" says how far each
layer is from it. The whole forward is timed too: the sum of the layers
leaves out only the Python calls between them.
"""
import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "model"))
import predictor  # noqa: E402  (sets the oneDNN ISA cap before torch loads)
import torch  # noqa: E402


def timed(fn, repeats: int) -> float:
    """Median milliseconds of fn() over `repeats` runs, after two warm-up runs."""
    for _ in range(2):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times)


def conv_macs(kind: str, x: torch.Tensor, y: torch.Tensor) -> int:
    """MACs of one of the Backbone's convolutions: 3x3 in the body, 1x1 in the projection."""
    return y.numel() * x.size(1) * (9 if kind == "ConvBNReLU" else 1)


def best_rate(repeats: int) -> float:
    """GMAC/s of a large int8 3x3 convolution (128 -> 128 channels over 8 x 800 pixels, batch 4)."""
    conv = torch.ao.nn.quantized.Conv2d(128, 128, 3, padding=1)
    conv.set_weight_bias(torch.quantize_per_tensor(torch.randn(128, 128, 3, 3) * 0.05, 0.001, 0, torch.qint8), None)
    x = torch.quantize_per_tensor(torch.rand(4, 128, 8, 800), 0.01, 0, torch.quint8)
    ms = timed(lambda: conv(x), repeats)
    return 4 * 128 * 128 * 9 * 8 * 800 / ms / 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bundle", default=str(ROOT / "model" / "repository" / "vocr_line"))
    parser.add_argument("--width", type=int, default=400)
    parser.add_argument("--batch", default="1,8")
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    torch.set_num_threads(1)
    bundle = predictor.resolve_bundle(args.bundle)
    manifest = predictor.load_manifest(bundle)
    torch.backends.quantized.engine = manifest["quantization"]["engine"]
    cnn = torch.jit.load(os.path.join(bundle, manifest["files"]["cnn"]["path"])).eval()
    spec = manifest["input"]
    best = best_rate(args.repeats)
    print(f"best int8 rate here (3x3 conv 128->128 over 4 x 8 x 800, 1 thread): {best:.0f} GMAC/s")
    for batch in (int(b) for b in args.batch.split(",")):
        images = torch.rand(batch, spec["channels"], spec["height"], args.width)
        layers = [("quantize", cnn.quant)] + [(f"body.{n}", m) for n, m in cnn.body.named_children()]
        layers += [("project", cnn.project), ("dequantize", cnn.dequant)]
        print(f"\nbatch {batch}, {args.width} px wide, per line:")
        print(f"{'layer':12s} {'kind':12s} {'output':>18s} {'MMAC':>7s} {'ms':>7s} {'GMAC/s':>7s} {'of best':>7s}")
        x = images
        total_ms = total_macs = 0.0
        with torch.no_grad():
            for name, module in layers:
                y = module(x)
                kind = module.original_name
                conv = kind in ("ConvBNReLU", "Conv2d")
                macs = conv_macs(kind, x, y) / batch if conv else 0
                ms = timed(lambda: module(x), args.repeats) / batch  # noqa: B023
                total_ms += ms
                total_macs += macs
                rate = f"{macs / ms / 1e6:7.1f} {100 * macs / ms / 1e6 / best:6.0f}%" if conv else ""
                print(f"{name:12s} {kind:12s} {str(list(y.shape[1:])):>18s} {macs / 1e6:7.1f} {ms:7.3f} {rate}")
                x = y
            whole = timed(lambda: cnn(images), args.repeats) / batch
        print(f"{'layers':12s} {'':12s} {'':>18s} {total_macs / 1e6:7.1f} {total_ms:7.3f} "
              f"{total_macs / total_ms / 1e6:7.1f} {100 * total_macs / total_ms / 1e6 / best:6.0f}%")
        print(f"{'forward':12s} {'':12s} {'':>18s} {'':7s} {whole:7.3f} {total_macs / whole / 1e6:7.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

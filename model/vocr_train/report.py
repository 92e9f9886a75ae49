"""Accuracy, size and CPU latency of exported bundles, and the table made of them.

Every figure comes from the exported TorchScript files run by the reference
predictor, i.e. what a consumer of the bundle gets, on one thread.
Latency is per line, preprocessing included, image decoding excluded:
batch 1 reads lines one by one; batch 16 reads width-sorted groups of 16
(what the server's width buckets give it). Each is the median of `repeats`.
Every measurement runs in a fresh process with one thread: the quantized
engine and the thread count are process-wide state, and onednn's int8
convolution crashed (std::bad_alloc, std::bad_array_new_length) when a
process that had trained with 2 threads, or had run qnnpack, went on to
measure with 1.

    /usr/bin/python3 -m vocr_train.report --bundle B --engine qnnpack --latency IMAGE...
    /usr/bin/python3 -m vocr_train.report --bundle B --accuracy VAL_DIR
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Dict, Optional, Sequence

import cv2
import numpy as np

from predictor import Predictor, load_manifest, read_sorted
from vocr_train.data import SUBSETS
from vocr_train.evaluate import evaluate, load_subset
from vocr_train.export import variant_name
from vocr_train.vocab import MODEL_DIR

BEGIN, END = "<!-- report:begin -->", "<!-- report:end -->"


def latency_ms(predictor: Predictor, images: Sequence[np.ndarray], batch: int, repeats: int) -> float:
    runs = []
    read_sorted(predictor.cnn, predictor.seq, predictor.manifest, images[:batch], batch)  # warm-up
    for _ in range(repeats):
        start = time.perf_counter()
        read_sorted(predictor.cnn, predictor.seq, predictor.manifest, images, batch)
        runs.append((time.perf_counter() - start) * 1000.0 / len(images))
    return statistics.median(runs)


def in_child(*args: str) -> dict:
    """Runs this module's main in a fresh process; its last stdout line is JSON."""
    cmd = [sys.executable, "-m", "vocr_train.report", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=MODEL_DIR, timeout=3600)
    if done.returncode != 0:
        lines = [l for l in done.stderr.splitlines() if l.strip()]
        return {"error": (lines[-1] if lines else f"exit {done.returncode}")[:200]}
    return json.loads(done.stdout.splitlines()[-1])


def measure_variants(variants: Dict[str, str], val_dir: str, timing_paths: Sequence[str], rcfg: dict) -> dict:
    """{variant: {subset scores, bytes, latency per engine}} for bundle directories."""
    out = {"variants": {}, "latency_note": "ms per line, 1 thread, median of %d runs over %d lines"
           % (rcfg["repeats"], len(timing_paths))}
    for name, folder in variants.items():
        files = load_manifest(folder)["files"]
        entry = {
            "bytes": {part: f["bytes"] for part, f in files.items()},
            "fp32_reference_bytes": {part: f["fp32_reference_bytes"] for part, f in files.items()},
            "accuracy": in_child("--bundle", folder, "--accuracy", val_dir),
            "latency_ms": {e: in_child("--bundle", folder, "--engine", e, "--repeats", str(rcfg["repeats"]),
                                       "--latency", *timing_paths) for e in rcfg["engines"]},
        }
        entry["bytes"]["total"] = sum(f["bytes"] for f in files.values())
        if "error" in entry["accuracy"]:
            raise RuntimeError(f"{folder}: accuracy run failed: {entry['accuracy']['error']}")
        out["variants"][name] = entry
        print(name, entry, flush=True)
    out["size_ratios"] = size_ratios(out["variants"])
    return out


def size_ratios(variants: dict) -> dict:
    """fp32 bundle bytes over int8 bundle bytes, for the shipped variant and for
    the CNN-only one (what the VietOCR guide's 85 MB -> 29 MB compares)."""
    fp32 = variants[variant_name("fp32", "fp32")]["bytes"]["total"]
    return {f"fp32 / {v}": round(fp32 / variants[v]["bytes"]["total"], 3)
            for v in (variant_name("qat", "dynamic"), variant_name("qat", "fp32"))}


def format_table(report: dict) -> str:
    variants = report["variants"]
    subsets = list(next(iter(variants.values()))["accuracy"])
    engines = list(next(iter(variants.values()))["latency_ms"])
    head = ["variant (CNN / decoder)"] + [f"{s} CER % / line acc % / lines/s" for s in subsets] + ["bytes"] + \
           [f"{e} ms/line b1 / b16" for e in engines]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]

    def accuracy(a: dict) -> str:
        return f"{a['cer']:.2f} / {a['line_acc']:.1f} / {a.get('lines_per_s', 0):.0f}"

    for name, v in variants.items():
        cells = [name] + [accuracy(v["accuracy"][s]) for s in subsets] + [f"{v['bytes']['total']:,}"]
        for e in engines:
            lat = v["latency_ms"][e]
            cells.append(f"{lat['batch1']:.2f} / {lat['batch16']:.2f}" if "batch1" in lat else "fails: " + lat["error"])
        rows.append("| " + " | ".join(cells) + " |")
    tess = report.get("tesseract")
    if tess:
        cells = [f"{tess['engine']} `vie` (psm 7, LSTM)"] + [accuracy(tess["subsets"][s]) for s in subsets]
        rows.append("| " + " | ".join(cells + [f"{tess['bytes']:,}"] + ["-"] * len(engines)) + " |")
    lines = rows + ["", report["latency_note"] + ". Lines/s: one thread, reading each subset (ours in "
                    "width-sorted batches of 16; Tesseract one process per subset, PNG reading included)."]
    lines += [f"Size ratio {k}: {v:.2f}x." for k, v in report["size_ratios"].items()]
    model = report.get("model")
    if model:
        lines.append(f"Parameters: {model['parameters']:,} (CNN {model['cnn_parameters']:,}). MACs per line: " +
                     "; ".join(f"{k}: {v['total'] / 1e6:.0f} M (CNN {v['cnn'] / 1e6:.0f} M)"
                               for k, v in model["macs_per_line"].items()) + ".")
    return "\n".join(lines)


def write_report(report: dict, readme: Optional[str], cfg: dict) -> str:
    """The markdown table; replaces the marked block of `readme` when given."""
    table = f"Config `{cfg['name']}`, run `{os.path.basename(cfg['paths']['run'])}`:\n\n" + format_table(report)
    if readme and os.path.exists(readme):
        with open(readme, encoding="utf-8") as f:
            text = f.read()
        if BEGIN in text and END in text:
            text = text[: text.index(BEGIN) + len(BEGIN)] + "\n" + table + "\n" + text[text.index(END):]
            with open(readme, "w", encoding="utf-8") as f:
                f.write(text)
    return table


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="one measurement of one bundle (see the module docstring)")
    parser.add_argument("--bundle", required=True)
    parser.add_argument("--engine", default=None)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--accuracy", metavar="VAL_DIR", help="score every subset of this validation set")
    parser.add_argument("--latency", nargs="+", metavar="IMAGE", help="time reading these images")
    args = parser.parse_args(argv)
    predictor = Predictor(args.bundle, threads=1, engine=args.engine)
    if args.accuracy:
        subsets = {s: load_subset(os.path.join(args.accuracy, s)) for s in SUBSETS}
        result = evaluate(predictor.cnn, predictor.seq, predictor.manifest, subsets, batch_size=16)
        for figures in result.values():
            figures["lines_per_s"] = figures["lines"] / figures["seconds"]
    else:
        images = [cv2.imread(p, cv2.IMREAD_UNCHANGED) for p in args.latency]
        result = {f"batch{b}": round(latency_ms(predictor, images, b, args.repeats), 3) for b in (1, 16)}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

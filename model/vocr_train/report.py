"""Accuracy, size and CPU latency of exported bundles, and the table made of them.

Every figure comes from the exported TorchScript files run by the reference
predictor, i.e. what a consumer of the bundle gets, on one thread.
Latency is per line, preprocessing included, image decoding excluded:
batch 1 reads lines one by one; batch 16 reads width-sorted groups of 16
(what the server's width buckets give it). Each is the median of `repeats`.
"""
import os
import statistics
import time
from typing import Dict, Optional, Sequence

import numpy as np
import torch

from predictor import Predictor, read_sorted
from vocr_train.evaluate import score
from vocr_train.export import variant_name

BEGIN, END = "<!-- report:begin -->", "<!-- report:end -->"


def latency_ms(predictor: Predictor, images: Sequence[np.ndarray], batch: int, repeats: int) -> float:
    runs = []
    read_sorted(predictor.cnn, predictor.seq, predictor.manifest, images[:batch], batch)  # warm-up
    for _ in range(repeats):
        start = time.perf_counter()
        read_sorted(predictor.cnn, predictor.seq, predictor.manifest, images, batch)
        runs.append((time.perf_counter() - start) * 1000.0 / len(images))
    return statistics.median(runs)


def measure_variants(variants: Dict[str, str], subsets: Dict, rcfg: dict) -> dict:
    """{variant: {subset scores, bytes, latency per engine}} for bundle directories."""
    torch.set_num_threads(1)
    timing_lines = [im for images, _ in subsets.values() for im in images[: rcfg["latency_lines"] // len(subsets)]]
    out = {"variants": {}, "latency_note": "ms per line, 1 thread, median of %d runs over %d lines"
           % (rcfg["repeats"], len(timing_lines))}
    for name, folder in variants.items():
        predictor = Predictor(folder)
        files = predictor.manifest["files"]
        entry = {
            "bytes": {part: f["bytes"] for part, f in files.items()},
            "fp32_reference_bytes": {part: f["fp32_reference_bytes"] for part, f in files.items()},
            "accuracy": {}, "latency_ms": {},
        }
        entry["bytes"]["total"] = sum(f["bytes"] for f in files.values())
        for subset, (images, texts) in subsets.items():
            readings = read_sorted(predictor.cnn, predictor.seq, predictor.manifest, images, 16)
            entry["accuracy"][subset] = score(texts, [r.text for r in readings])
        for engine in rcfg["engines"]:
            try:
                p = Predictor(folder, engine=engine)
                entry["latency_ms"][engine] = {f"batch{b}": round(latency_ms(p, timing_lines, b, rcfg["repeats"]), 3)
                                               for b in (1, 16)}
            except Exception as e:  # an engine that cannot run a bundle is a finding, not a crash
                entry["latency_ms"][engine] = {"error": str(e).splitlines()[0][:200]}
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
    head = ["variant (CNN / decoder)"] + [f"{s} CER % / line acc %" for s in subsets] + ["bytes"] + \
           [f"{e} ms/line b1 / b16" for e in engines]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, v in variants.items():
        cells = [name]
        cells += [f"{v['accuracy'][s]['cer']:.2f} / {v['accuracy'][s]['line_acc']:.1f}" for s in subsets]
        cells.append(f"{v['bytes']['total']:,}")
        for e in engines:
            lat = v["latency_ms"][e]
            cells.append(f"{lat['batch1']:.2f} / {lat['batch16']:.2f}" if "batch1" in lat else "fails: " + lat["error"])
        rows.append("| " + " | ".join(cells) + " |")
    lines = rows + ["", report["latency_note"] + "."]
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

#!/usr/bin/python3
"""vocr-serve against Tesseract 5 on the same line images, same machine, one run.

    /usr/bin/python3 tools/bench_vs_tesseract.py [--repeats 3] [--duration 10] [--lines 60]

The lines: from each validation subset (model/build/val: clean, degraded,
numbers, caps, hard, long, tech), `--lines` pairs of lines of that subset joined side by
side with a word gap and a third as many single lines, so lengths run from a
few characters to 70+, most of them 40-64 as in documents, and the widest
take the server's long-line path (cut into pieces, read, joined).

Tesseract: bench/tesseract_bench (its C++ API, `vie`, psm 7, LSTM), one
thread per process (OMP_THREAD_LIMIT=1); one process gives the single-stream
latency, one process per core the throughput. The server: a fresh
vocr_server with its default flags, driven by `ocr_client bench` closed-loop
at concurrency 1 and at --saturation; its CPU-seconds per line come from
process_cpu_seconds_total on /metrics, so the client's own CPU is not
counted. Both read the same PNG files, decoding included. Every figure is
the median of --repeats runs; ratios are against Tesseract in the same run.
CER is scored once per run by `ocr_client eval` and by this script for
Tesseract, with the same rule (edit distance over reference characters).
"""
import argparse
import contextlib
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import cv2

ROOT = Path(__file__).resolve().parents[1]
SERVER = ROOT / "build" / "server" / "vocr_server"
CLIENT = ROOT / "build" / "client" / "ocr_client"
TESSERACT = ROOT / "build" / "bench" / "tesseract_bench"
SUBSETS = ("clean", "degraded", "numbers", "caps", "hard", "long", "tech", "pango")
sys.path.insert(0, str(ROOT / "model"))
sys.path.insert(0, str(ROOT / "tools"))
from bench_server import serving  # noqa: E402  (the same server start-up as the configuration benchmark)
from vocr_train.evaluate import edit_distance  # noqa: E402
from vocr_train.joined_lines import join_side_by_side  # noqa: E402


def read_labels(folder: Path):
    with open(folder / "labels.tsv", encoding="utf-8") as f:
        return [(folder / name, text) for name, text in (line.rstrip("\n").split("\t", 1) for line in f if line.strip())]


def make_lines(val: Path, per_subset: int, out: Path, seed: int = 7):
    """(path, text, subset) for joined and single lines; the joined ones are written under `out`."""
    rng = random.Random(seed)
    lines = []
    singles = max(1, per_subset // 3)
    for subset in SUBSETS:
        pairs = read_labels(val / subset)
        chosen = rng.sample(pairs, min(len(pairs), singles + 2 * per_subset))
        lines += [(path, text, subset) for path, text in chosen[:singles]]
        rest = chosen[singles:]
        for i in range(0, len(rest) - 1, 2):
            (pa, ta), (pb, tb) = rest[i], rest[i + 1]
            joined = join_side_by_side(cv2.imread(str(pa), cv2.IMREAD_UNCHANGED),
                                       cv2.imread(str(pb), cv2.IMREAD_UNCHANGED))
            path = out / f"{subset}-joined-{i // 2:03d}.png"
            cv2.imwrite(str(path), joined)
            lines.append((path, f"{ta} {tb}", subset))
    return lines


def cer(refs, hyps) -> float:
    return 100.0 * sum(edit_distance(r, h) for r, h in zip(refs, hyps)) / max(1, sum(len(r) for r in refs))


def run_tesseract(paths, processes: int):
    """Every process reads all of `paths`; returns (lines/s over all processes, per-line ms of the first, texts)."""
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    start = time.perf_counter()
    procs = [subprocess.Popen([str(TESSERACT), "vie", *map(str, paths)], stdout=subprocess.PIPE, env=env, text=True)
             for _ in range(processes)]
    outputs = [p.communicate()[0] for p in procs]
    wall = time.perf_counter() - start
    if any(p.returncode for p in procs):
        sys.exit("tesseract_bench failed")
    rows = [line.split("\t", 1) for line in outputs[0].splitlines()]
    return processes * len(paths) / wall, [float(ms) for ms, _ in rows], [t for _, t in rows]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving_with_metrics(server: Path, bundle: str, tmp: Path, flags=()):
    """bench_server.serving with a metrics port; yields (gRPC target, metrics URL)."""
    metrics_port = free_port()
    with serving(bundle, list(flags), tmp, server=server, metrics_port=metrics_port) as target:
        yield target, f"http://127.0.0.1:{metrics_port}/metrics"


def scrape(url: str) -> dict:
    """The server's CPU seconds, resident bytes and CNN and encoder + decoder seconds from one /metrics scrape.

    The stages are the worker threads' own CPU time; a server from before
    that counter gives its stages' wall time, which at saturation also counts
    the time a worker waited for a core."""
    text = urllib.request.urlopen(url, timeout=10).read().decode()
    value = lambda name: float(re.search(rf"^{name}\s+(\S+)", text, re.M).group(1))  # noqa: E731
    counter = "vocr_stage_cpu_seconds_total" if "vocr_stage_cpu_seconds_total" in text else \
        "vocr_stage_duration_seconds_sum"
    stage = lambda name: value(rf'{counter}\{{stage="{name}"\}}')  # noqa: E731
    return {"cpu": value("process_cpu_seconds_total"), "rss": value("process_resident_memory_bytes"),
            "cnn": stage("cnn"), "decoder": stage("decoder")}


def run_server(target: str, metrics: str, paths, concurrency: int, duration: float, tmp: Path) -> dict:
    out = tmp / "bench.json"
    subprocess.run([str(CLIENT), "bench", "--target", target, "--concurrency", "4", "--duration_s", "1",
                    "--warmup_s", "0", *map(str, paths)], check=True, capture_output=True, timeout=120)
    before = scrape(metrics)
    subprocess.run([str(CLIENT), "bench", "--target", target, "--concurrency", str(concurrency),
                    "--duration_s", str(duration), "--warmup_s", "0", "--json_out", str(out), *map(str, paths)],
                   check=True, capture_output=True, timeout=duration + 120)
    run = json.loads(out.read_text())["runs"][0]
    after = scrape(metrics)
    per_line = lambda key: 1000.0 * (after[key] - before[key]) / max(1, run["lines"])  # noqa: E731
    run["cpu_ms_per_line"] = per_line("cpu")
    # CPU time of each stage on its worker thread.
    run["cnn_ms_per_line"], run["seq_ms_per_line"] = per_line("cnn"), per_line("decoder")
    run["rss_mb"] = after["rss"] / 2**20
    return run


def server_cer(target: str, lines, tmp: Path) -> float:
    labels = tmp / "labels.tsv"
    labels.write_text("".join(f"{path}\t{text}\n" for path, text, _ in lines), encoding="utf-8")
    report = json.loads(subprocess.run([str(CLIENT), "eval", "--json", "--labels", str(labels), "--target", target],
                                       check=True, capture_output=True, text=True, timeout=900).stdout)
    return report["cer_percent"]


def percentile(values, q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bundle", default=str(ROOT / "model" / "repository" / "vocr_line"))
    parser.add_argument("--server", default=str(SERVER), help="vocr_server binary (e.g. an older build to compare)")
    parser.add_argument("--val", default=str(ROOT / "model" / "build" / "val"))
    parser.add_argument("--lines", type=int, default=60, help="joined pairs per subset (and a third as many single lines)")
    parser.add_argument("--duration", type=float, default=10, help="seconds per server run")
    parser.add_argument("--saturation", type=int, default=16, help="concurrency of the saturated server run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--flags", default="", help="extra vocr_server flags, space-separated")
    args = parser.parse_args()
    for tool in (Path(args.server), CLIENT, TESSERACT):
        if not tool.exists():
            sys.exit(f"{tool} is missing: run tools/build.sh (tesseract_bench needs libtesseract-dev)")
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        lines = make_lines(Path(args.val), args.lines, tmp)
        paths = [p for p, _, _ in lines]
        lengths = [len(t) for _, t, _ in lines]
        shapes = [cv2.imread(str(p), cv2.IMREAD_UNCHANGED).shape for p in paths]
        widths = [shape[1] * 32 / shape[0] for shape in shapes]
        print(f"{len(lines)} lines from {', '.join(SUBSETS)}; characters p10/p50/p90 "
              f"{percentile(lengths, .1)}/{percentile(lengths, .5)}/{percentile(lengths, .9)}, "
              f"{sum(40 <= n <= 64 for n in lengths)} of 40-64; width at 32 px p50 {percentile(widths, .5):.0f}, "
              f"p90 {percentile(widths, .9):.0f}; {cores} cores; median of {args.repeats}")
        cells = {k: [] for k in ("t1", "tn", "t_p50", "t_p99", "s1", "s1_p50", "s1_p99", "s1_cpu", "sn", "sn_p50",
                                 "sn_p99", "sn_cpu", "sn_cnn", "sn_seq", "rss")}
        tess_texts = None
        with serving_with_metrics(Path(args.server), args.bundle, tmp, args.flags.split()) as (target, metrics):
            for _ in range(args.repeats):
                lps, ms, tess_texts = run_tesseract(paths, 1)
                cells["t1"].append(lps)
                cells["t_p50"].append(statistics.median(ms))
                cells["t_p99"].append(percentile(ms, .99))
                cells["tn"].append(run_tesseract(paths, cores)[0])
                for key, conc in (("s1", 1), ("sn", args.saturation)):
                    r = run_server(target, metrics, paths, conc, args.duration, tmp)
                    cells[key].append(r["lines_per_s"])
                    cells[key + "_p50"].append(r["latency_ms"]["p50"])
                    cells[key + "_p99"].append(r["latency_ms"]["p99"])
                    cells[key + "_cpu"].append(r["cpu_ms_per_line"])
                    cells["rss"].append(r["rss_mb"])
                cells["sn_cnn"].append(r["cnn_ms_per_line"])
                cells["sn_seq"].append(r["seq_ms_per_line"])
            served_cer = server_cer(target, lines, tmp)
        med = {k: statistics.median(v) for k, v in cells.items()}
        refs = [t for _, t, _ in lines]
        print(f"\n{'':40s} {'lines/s':>8s} {'p50 ms':>7s} {'p99 ms':>7s} {'CPU ms/line':>11s} {'vs Tesseract':>12s}")
        print(f"{'Tesseract, 1 process':40s} {med['t1']:8.1f} {med['t_p50']:7.1f} {med['t_p99']:7.1f} "
              f"{1000 / med['t1']:11.1f} {1.0:12.2f}")
        print(f"{f'Tesseract, {cores} processes':40s} {med['tn']:8.1f} {'':7s} {'':7s} {'':11s} {1.0:12.2f}")
        print(f"{'vocr-serve, concurrency 1':40s} {med['s1']:8.1f} {med['s1_p50']:7.1f} {med['s1_p99']:7.1f} "
              f"{med['s1_cpu']:11.1f} {med['s1'] / med['t1']:12.2f}")
        print(f"{f'vocr-serve, concurrency {args.saturation}':40s} {med['sn']:8.1f} {med['sn_p50']:7.1f} "
              f"{med['sn_p99']:7.1f} {med['sn_cpu']:11.1f} {med['sn'] / med['tn']:12.2f}")
        print(f"\nsingle-stream p50: vocr-serve {med['s1_p50'] / med['t_p50']:.2f}x Tesseract's; "
              f"saturated throughput {med['sn'] / med['tn']:.2f}x Tesseract's on {cores} cores; "
              f"server RSS max {max(cells['rss']):.0f} MiB")
        print(f"at saturation, per line: CNN {med['sn_cnn']:.2f} ms ({100 * med['sn_cnn'] / med['sn_cpu']:.0f} % of "
              f"the server's CPU), encoder + decoder {med['sn_seq']:.2f} ms "
              f"({100 * med['sn_seq'] / med['sn_cpu']:.0f} %)")
        print(f"CER on these lines: vocr-serve {served_cer:.2f} %, Tesseract {cer(refs, tess_texts):.2f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())

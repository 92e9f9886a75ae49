#!/usr/bin/python3
"""Accuracy of a bundle as the server runs it: `ocr_client eval` on every validation subset.

    /usr/bin/python3 tools/eval_server.py [--bundle model/repository/vocr_line] [--val model/build/val]

One vocr_server on loopback with one batch worker of one thread (one core,
as "lines per second on one core" means), fed by 8 concurrent callers so its
batches fill. Prints a markdown table (CER, WER, exact lines, lines/s per
subset) and, with --json_out, the client's full reports.
"""
import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_server import CLIENT, ROOT, serving  # noqa: E402

SUBSETS = ("clean", "degraded", "caps", "numbers", "hard")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundle", default=str(ROOT / "model" / "repository" / "vocr_line"))
    parser.add_argument("--val", default=str(ROOT / "model" / "build" / "val"))
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--json_out", default="")
    args = parser.parse_args()
    reports = {}
    with tempfile.TemporaryDirectory() as tmp:
        with serving(args.bundle, ["--workers", "1", "--intra_op_threads", "1"], Path(tmp)) as target:
            for subset in SUBSETS:
                labels = Path(args.val) / subset / "labels.tsv"
                if not labels.exists():
                    continue
                done = subprocess.run([str(CLIENT), "eval", "--json", "--labels", str(labels), "--target", target,
                                       "--concurrency", str(args.concurrency)], capture_output=True, text=True,
                                      check=True, timeout=3600)
                reports[subset] = json.loads(done.stdout)
    print("| subset | lines | CER % | WER % | exact lines % | lines/s (1 core) |")
    print("|---|---:|---:|---:|---:|---:|")
    for subset, r in reports.items():
        print(f"| {subset} | {r['lines']} | {r['cer_percent']:.2f} | {r['wer_percent']:.2f} | "
              f"{r['exact_percent']:.1f} | {r['lines_per_s']:.0f} |")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(reports, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

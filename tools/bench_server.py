#!/usr/bin/python3
"""Server benchmark: server configurations against a baseline, in one run.

    /usr/bin/python3 tools/bench_server.py [--bundle model/repository/vocr_line] [--duration 10]

For every configuration a fresh vocr_server is started on loopback and
`ocr_client bench` drives it closed-loop at each concurrency level with the
validation line images (tests/data/lines and model/build/val when present).
Each cell is the median of --repeats runs; the last column is the throughput
ratio to the baseline (the first configuration) at the same concurrency.
The machine is small and noisy: read the ratios, quote medians.
"""
import argparse
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVER = ROOT / "build" / "server" / "vocr_server"
CLIENT = ROOT / "build" / "client" / "ocr_client"

CONFIGS = {
    "batch 1, 1 worker x 2 threads (baseline)": ["--max_batch_size", "1", "--workers", "1", "--intra_op_threads", "2"],
    "batch 1, 2 workers x 1 thread": ["--max_batch_size", "1", "--workers", "2", "--intra_op_threads", "1"],
    "batch 8, 1 worker x 2 threads": ["--max_batch_size", "8", "--workers", "1", "--intra_op_threads", "2"],
    "batch 8, 2 workers x 1 thread (default)": ["--max_batch_size", "8", "--workers", "2", "--intra_op_threads", "1"],
    "batch 16, 2 workers x 1 thread": ["--max_batch_size", "16", "--workers", "2", "--intra_op_threads", "1"],
}


@contextlib.contextmanager
def serving(bundle: str, flags, tmp: Path, server: Path = SERVER, metrics_port: int = 0):
    """A vocr_server on a free loopback port, SERVING; yields its target and stops it after."""
    port_file = tmp / "port"
    port_file.unlink(missing_ok=True)
    proc = subprocess.Popen([str(server), "--host", "127.0.0.1", "--port", "0", "--port_file", str(port_file),
                             "--metrics_port", str(metrics_port), "--model_path", bundle, *flags],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit(f"vocr_server exited with {proc.returncode} for flags {flags}")
        if port_file.exists():
            target = f"127.0.0.1:{port_file.read_text().strip()}"
            health = subprocess.run([str(CLIENT), "health", "--target", target, "--timeout_ms", "1000"],
                                    capture_output=True, text=True)
            if health.stdout.strip() == "SERVING":
                break
        time.sleep(0.2)
    else:
        proc.kill()
        sys.exit("vocr_server did not become SERVING")
    try:
        yield target
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def bench(target: str, images, concurrency: int, duration: float, tmp: Path) -> dict:
    out = tmp / "bench.json"
    subprocess.run([str(CLIENT), "bench", "--target", target, "--concurrency", str(concurrency),
                    "--duration_s", str(duration), "--warmup_s", "2", "--json_out", str(out), *map(str, images)],
                   check=True, capture_output=True, timeout=duration + 120)
    return json.loads(out.read_text())["runs"][0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bundle", default=str(ROOT / "model" / "repository" / "vocr_line"))
    parser.add_argument("--concurrency", default="1,8")
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--configs", default="", help="comma-separated indexes into the list (default: all)")
    args = parser.parse_args()
    images = sorted((ROOT / "tests" / "data" / "lines").glob("*.png"))
    for subset in ("clean", "degraded"):
        images += sorted((ROOT / "model" / "build" / "val" / subset).glob("*.png"))[:50]
    levels = [int(c) for c in args.concurrency.split(",")]
    names = list(CONFIGS)
    if args.configs:
        names = [names[int(i)] for i in args.configs.split(",")]
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            with serving(args.bundle, CONFIGS[name], Path(tmp)) as target:
                for c in levels:
                    runs = [bench(target, images, c, args.duration, Path(tmp)) for _ in range(args.repeats)]
                    rows[(name, c)] = {
                        "lines_per_s": statistics.median(r["lines_per_s"] for r in runs),
                        "p50": statistics.median(r["latency_ms"]["p50"] for r in runs),
                        "p99": statistics.median(r["latency_ms"]["p99"] for r in runs),
                        "errors": sum(r["failed_calls"] for r in runs),
                    }
    print(f"bundle {args.bundle}, {len(images)} images, {args.duration:.0f} s per cell, median of {args.repeats}")
    print(f"{'configuration':44s} {'conc':>4s} {'lines/s':>8s} {'p50 ms':>7s} {'p99 ms':>7s} {'errors':>6s} {'ratio':>6s}")
    for (name, c), r in rows.items():
        base = rows[(names[0], c)]["lines_per_s"]
        print(f"{name:44s} {c:4d} {r['lines_per_s']:8.1f} {r['p50']:7.2f} {r['p99']:7.2f} {r['errors']:6d} "
              f"{r['lines_per_s'] / base:6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Starting the real vocr_server binary and driving it with the real ocr_client,
for the end-to-end tests (imported by name: a module called conftest would be
ambiguous next to tests/trainer's)."""
import contextlib
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "model"))
BUILD = ROOT / "build"
SERVER = BUILD / "server" / "vocr_server"
CLIENT = BUILD / "client" / "ocr_client"
DEFAULT_BUNDLE = ROOT / "model" / "repository" / "vocr_line"
SAMPLE_LINES = sorted((ROOT / "tests" / "data" / "lines").glob("*.png"))


def client(*args, check=True, timeout=600):
    """Runs ocr_client; returns its stdout."""
    done = subprocess.run([str(CLIENT), *map(str, args)], capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise AssertionError(f"ocr_client {' '.join(map(str, args))} -> {done.returncode}\n{done.stderr}")
    return done.stdout


@contextlib.contextmanager
def running_server(bundle, *flags, metrics_port=0):
    """Starts vocr_server on a free loopback port (metrics endpoint off unless
    `metrics_port` is given), waits for SERVING, stops it with SIGTERM."""
    for binary in (SERVER, CLIENT):
        if not binary.exists():
            pytest.fail(f"{binary} is missing: run tools/build.sh first")
    with tempfile.TemporaryDirectory() as tmp:
        port_file = Path(tmp) / "port"
        log = open(Path(tmp) / "server.log", "w+")
        proc = subprocess.Popen([str(SERVER), "--host", "127.0.0.1", "--port", "0", "--port_file", str(port_file),
                                 "--metrics_port", str(metrics_port), "--model_path", str(bundle), *flags],
                                stdout=log, stderr=subprocess.STDOUT)
        try:
            target, deadline = None, time.time() + 120
            while time.time() < deadline:
                if proc.poll() is not None:
                    log.seek(0)
                    pytest.fail(f"vocr_server exited with {proc.returncode}:\n{log.read()}")
                if port_file.exists() and target is None:
                    target = f"127.0.0.1:{port_file.read_text().strip()}"
                if target and client("health", "--target", target, "--timeout_ms", 1000, check=False,
                                     timeout=10).strip() == "SERVING":
                    break
                time.sleep(0.2)
            else:
                pytest.fail("vocr_server did not become SERVING within 120 s")
            yield target
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()

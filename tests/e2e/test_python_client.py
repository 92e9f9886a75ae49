"""The Python client (client/python/vocr_client) against the real vocr_server: the
library's calls and values, its errors, and its command line, checked beside ocr_client."""
import json
import subprocess
import sys

import grpc
import pytest

from server_process import ROOT, SAMPLE_LINES, client, running_server

PYTHON_CLIENT = ROOT / "client" / "python"
sys.path.insert(0, str(PYTHON_CLIENT))
from vocr_client import Client, OcrError  # noqa: E402  (importable only once the path above is set)

GARBAGE = b"these bytes are no image at all"


@pytest.fixture(scope="module")
def target(bundle):
    with running_server(bundle, "--workers", "1") as address:
        yield address


@pytest.fixture(scope="module")
def ocr(target):
    with Client(target, timeout=30) as c:
        yield c


def served_manifest(bundle):
    """The manifest of the version the server serves: the highest numeric one."""
    version = max((d for d in bundle.iterdir() if d.name.isdigit()), key=lambda d: int(d.name))
    return json.loads((version / "manifest.json").read_text())


def vocr_client(*args):
    """Runs `python3 -m vocr_client` the way the README shows it, from client/python."""
    return subprocess.run(["/usr/bin/python3", "-m", "vocr_client", *map(str, args)], cwd=PYTHON_CLIENT,
                          capture_output=True, text=True, timeout=120)


def test_recognize_reads_a_line_as_ocr_client_does(ocr, target):
    line = SAMPLE_LINES[0]
    got = ocr.recognize(line)
    want = json.loads(client("recognize", "--json", "--target", target, line))
    assert got.text and got.text == want["text"]
    assert got.confidence == pytest.approx(want["confidence"], abs=1e-6)
    assert list(got.char_confidences) == pytest.approx(want["char_confidences"], abs=1e-6)
    assert len(got.char_confidences) == len(got.text)  # one per code point
    assert got.timings.total_ms > 0 and got.timings.batch_size >= 1
    assert got.model.name and got.model.version > 0
    assert ocr.recognize(line.read_bytes()).text == got.text  # bytes read like the path


def test_a_bad_image_in_a_batch_fails_alone(ocr):
    alone = [ocr.recognize(path).text for path in SAMPLE_LINES[:2]]
    results = ocr.recognize_batch([SAMPLE_LINES[0], GARBAGE, SAMPLE_LINES[1].read_bytes()])
    assert [r.ok for r in results] == [True, False, True]
    assert [results[0].recognition.text, results[2].recognition.text] == alone
    bad = results[1]
    assert bad.code == grpc.StatusCode.INVALID_ARGUMENT and bad.message and bad.recognition is None


def test_info_names_the_served_model(ocr, bundle):
    manifest = served_manifest(bundle)
    info = ocr.info()
    assert (info.name, info.version) == (manifest["name"], manifest["version"])
    assert {p.name for p in info.parts} == {"cnn", "seq"}
    assert all(p.bytes > 0 and len(p.sha256) == 64 for p in info.parts)
    assert info.vocab_size > 0 and info.input.height > 0 and info.engine in ("onednn", "qnnpack")


def test_health_is_serving(ocr):
    assert ocr.health() == "SERVING"


def test_an_invalid_image_raises_invalid_argument(ocr):
    with pytest.raises(OcrError) as caught:
        ocr.recognize(GARBAGE)
    assert caught.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.message and str(caught.value).startswith("INVALID_ARGUMENT: ")


def test_an_unreachable_server_raises_unavailable():
    with Client("127.0.0.1:1", timeout=5) as unreachable, pytest.raises(OcrError) as caught:
        unreachable.health()
    assert caught.value.code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


def test_command_line_prints_what_ocr_client_prints(target):
    done = vocr_client("--target", target, "recognize", *SAMPLE_LINES)
    assert done.returncode == 0, done.stderr
    assert done.stdout == client("recognize", "--target", target, *SAMPLE_LINES)

    done = vocr_client("--target", target, "recognize", "--json", "--batch", SAMPLE_LINES[0])
    assert done.returncode == 0, done.stderr
    line = json.loads(done.stdout)
    assert line["file"] == str(SAMPLE_LINES[0]) and line["text"] and line["model"]["version"] > 0

    info = vocr_client("info", "--json", "--target", target)  # flags after the command work too
    assert info.returncode == 0 and json.loads(info.stdout)["name"]
    health = vocr_client("--target", target, "health")
    assert (health.returncode, health.stdout) == (0, "SERVING\n")


def test_command_line_fails_clearly(target, tmp_path):
    garbage = tmp_path / "garbage.png"
    garbage.write_bytes(GARBAGE)
    done = vocr_client("--target", target, "recognize", "--batch", SAMPLE_LINES[0], garbage)
    assert done.returncode == 1
    assert done.stdout.strip()  # the good line is still printed
    assert f"{garbage}: INVALID_ARGUMENT: " in done.stderr

    done = vocr_client("--target", "127.0.0.1:1", "--timeout_ms", 5000, "health")
    assert done.returncode == 1 and done.stderr.startswith("health: ") and "Traceback" not in done.stderr

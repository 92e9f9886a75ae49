"""End-to-end tests: the real vocr_server binary, driven by the real ocr_client,
checked against the reference predictor (model/predictor.py)."""
import subprocess
from pathlib import Path

import pytest

from server_process import DEFAULT_BUNDLE, ROOT


@pytest.fixture(scope="session")
def bundle(tmp_path_factory):
    """The shipped default bundle when the repo has one (readable output), else a fresh tiny one."""
    if (DEFAULT_BUNDLE / "1" / "manifest.json").exists() or any(DEFAULT_BUNDLE.glob("*/manifest.json")):
        return DEFAULT_BUNDLE
    from vocr_train.tiny_bundle import make_tiny_bundle
    return Path(make_tiny_bundle(str(tmp_path_factory.mktemp("tiny")))).parent


@pytest.fixture(scope="session")
def val_dir():
    """The validation set of configs/default.json (rendered in seconds if missing, never trained on)."""
    subprocess.run(["/usr/bin/python3", "-m", "vocr_train.pipeline", "--config", "configs/default.json",
                    "--steps", "data"], cwd=ROOT / "model", check=True, capture_output=True, timeout=900)
    return ROOT / "model" / "build" / "val"

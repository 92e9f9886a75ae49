"""Trainer tests import the trainer package and the predictor from model/."""
import json
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "model"))

MODEL_DIR = Path(__file__).resolve().parents[2] / "model"


@pytest.fixture(scope="session")
def charset():
    """The model's vocabulary characters (model/vocab.json)."""
    return json.loads((MODEL_DIR / "vocab.json").read_text(encoding="utf-8"))["chars"]


@pytest.fixture(scope="session")
def cache_dir():
    """The corpus and font-scan cache shared with real runs and test_pipeline.py:
    model/build/cache (created if missing).  Building it is deterministic and
    keyed on its inputs, so tests reuse what a run or an earlier test built
    instead of rebuilding it (~20 s and 60 MB of unhinted fonts) per session.
    VOCR_CACHE_DIR points the tests at another directory, e.g. while a
    training run that uses model/build/cache should not see it rebuilt."""
    path = os.environ.get("VOCR_CACHE_DIR") or str(MODEL_DIR / "build" / "cache")
    os.makedirs(path, exist_ok=True)
    return path

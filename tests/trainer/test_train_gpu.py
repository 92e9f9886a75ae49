"""Training on a lent machine: the frozen cache, the time-budgeted WSD run,
bringing it back and extending it. Runs on the CPU with the tiny config."""
import json
import os
import shutil

import numpy as np
import pytest
import torch

from vocr_train import carry, corpus, fonts, pipeline, text_sampler, train_gpu
from vocr_train.config import load_config
from vocr_train.tiny_bundle import TINY_CONFIG


@pytest.fixture(scope="module")
def built_cache(cache_dir, charset):
    """The shared cache with its corpus and font scan in place (built if missing)."""
    corpus.build_corpus(cache_dir, charset)
    fonts.scan_fonts(charset, cache_dir)
    return cache_dir


def frozen_copy(cache_dir, dest):
    os.makedirs(dest)
    for name in carry.CACHE_FILES:
        shutil.copy(os.path.join(cache_dir, name), dest)
    open(os.path.join(dest, carry.FROZEN_MARKER), "w").write("{}")


def test_frozen_cache_is_used_as_it_is(built_cache, charset, tmp_path):
    """Keys that no longer match this machine would make an ordinary cache
    rebuild itself from the installed files; a frozen one is trusted."""
    frozen = str(tmp_path / "cache")
    frozen_copy(built_cache, frozen)
    meta = json.load(open(os.path.join(frozen, "corpus.json"), encoding="utf-8"))
    json.dump(dict(meta, sources_sha1="elsewhere"), open(os.path.join(frozen, "corpus.json"), "w"))
    scan = json.load(open(os.path.join(frozen, "font_scan.json"), encoding="utf-8"))
    json.dump(dict(scan, key="elsewhere"), open(os.path.join(frozen, "font_scan.json"), "w"))

    assert corpus.build_corpus(frozen, charset) == meta["counts"]
    assert fonts.scan_fonts(charset, frozen) == scan["result"]
    sampler = text_sampler.TextSampler("train", charset, frozen)
    assert sampler.sample(__import__("random").Random(1))[0]
    assert json.load(open(os.path.join(frozen, "corpus.json")))["sources_sha1"] == "elsewhere"  # not rebuilt


def test_only_training_fonts_travel(built_cache):
    scan = json.load(open(os.path.join(built_cache, "font_scan.json"), encoding="utf-8"))
    render = scan["render_paths"]
    val = {render.get(p, p) for f in scan["result"]["families"].values() if f["split"] == "val" for p in f["paths"]}
    travelling = carry.train_font_files(built_cache)
    assert travelling and not val & set(travelling)


def tiny_wsd_config(tmp_path, cache_dir):
    with open(TINY_CONFIG) as f:
        source = json.load(f)
    source["paths"] = {"cache": cache_dir, "val": str(tmp_path / "val"), "runs": str(tmp_path / "runs")}
    source["train"].update(schedule="wsd", warmup_steps=5, steps=40, decay_steps=10, log_every=5)
    path = tmp_path / "tinygpu.json"
    path.write_text(json.dumps(source))
    return path, source


def test_budgeted_run_comes_back_and_extends(built_cache, tmp_path):
    path, source = tiny_wsd_config(tmp_path, built_cache)
    out = str(tmp_path / "out")
    os.makedirs(out)
    cfg = load_config(str(path))
    cfg["paths"]["run"] = str(tmp_path / "remote")
    result = train_gpu.train_within(cfg, seconds=25, stable_share=0.5, out_dir=out)
    trained = result["config"]["train"]
    assert result["complete"] and trained["steps"] == result["stable_steps"] + trained["decay_steps"]
    assert not any(os.path.getsize(os.path.join(out, n)) > train_gpu.PART_BYTES for n in os.listdir(out))

    # Back here, the config must say what the run did before it is imported.
    with pytest.raises(SystemExit, match="train.steps"):
        train_gpu.import_run(load_config(str(path)), out)
    source["train"].update(steps=trained["steps"], decay_steps=trained["decay_steps"])
    path.write_text(json.dumps(source))
    cfg = load_config(str(path))
    train_gpu.import_run(cfg, out)
    weights = np.load(os.path.join(out, "fp32.npz"))
    state = torch.load(os.path.join(cfg["paths"]["run"], "fp32.pt"))
    assert all(np.array_equal(state[k].numpy(), weights[k]) for k in weights.files)
    stable = torch.load(os.path.join(cfg["paths"]["run"], "fp32.stable.ckpt"))
    assert stable["step"] == result["stable_steps"]
    info = pipeline.training_info(cfg)  # what the manifest records
    assert info["fp32_steps"] == result["steps_done"] and info["fp32_trained_on"]["seconds"] == result["seconds"]

    # A second budgeted run goes on from where the first one's decay began.
    cfg["paths"]["run"] = str(tmp_path / "remote2")
    with pytest.raises(SystemExit, match="to extend"):
        train_gpu.train_within(cfg, seconds=1, stable_share=0.5, out_dir=str(tmp_path / "out2"), extend=str(tmp_path))
    more = train_gpu.train_within(cfg, seconds=25, stable_share=0.5, out_dir=str(tmp_path / "out2"), extend=out)
    assert more["stable_steps"] > result["stable_steps"]
    with open(os.path.join(cfg["paths"]["run"], "fp32.log.jsonl")) as f:
        first = json.loads(f.readline())
    assert first["event"] == "resume" and first["step"] == result["stable_steps"]

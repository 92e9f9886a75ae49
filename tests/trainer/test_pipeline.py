"""Training learns, and the whole pipeline runs end to end on a smoke config."""
import json
import os

import numpy as np
import pytest
import torch

from predictor import Predictor
from vocr_train import data, pipeline
from vocr_train.contract import input_spec
from vocr_train.model import OcrModel
from vocr_train.render import render_line
from vocr_train.tiny_bundle import TINY_CONFIG
from vocr_train.train import sequence_loss, stable_until, wsd_factor
from vocr_train.vocab import Vocab

def test_tiny_model_loss_falls_on_rendered_lines(cache_dir):
    cfg = pipeline.load_config(TINY_CONFIG)
    vocab = Vocab()
    torch.manual_seed(0)
    model = OcrModel(cfg, len(vocab)).train()
    spec = input_spec(cfg, model.backbone.stride)
    rng = np.random.default_rng(0)
    font = data.font_families(cache_dir, "train")[0][0]
    texts = ["Hà Nội", "số 12", "Việt Nam", "ĐƯỜNG", "tiếng", "năm 2024", "Ừ", "ngày"]
    batch = data.collate([(data.render_sample(t, font, "clean", rng, spec), vocab.encode(t)) for t in texts], vocab, spec)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(40):
        loss = sequence_loss(model(batch["images"], batch["widths"], batch["inputs"]), batch["targets"], vocab.pad, 0.0)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss))
    assert np.mean(losses[-5:]) < 0.6 * np.mean(losses[:5]), losses


def test_stream_seed_draws_other_training_lines_and_leaves_the_rest_alone(cache_dir):
    cfg = pipeline.load_config(TINY_CONFIG)
    cfg["paths"]["cache"] = cache_dir
    spec = input_spec(cfg, OcrModel(cfg, len(Vocab())).backbone.stride)

    def first_targets(data_cfg):
        batch = next(iter(data.train_loader(dict(cfg, data=data_cfg), spec, cache_dir, 0)))
        return batch["targets"].tolist()

    plain = first_targets(cfg["data"])
    assert first_targets(dict(cfg["data"], stream_seed=cfg["seed"])) == plain  # the default is the seed
    assert first_targets(dict(cfg["data"], stream_seed=cfg["seed"] + 1)) != plain


def test_wsd_schedule_is_flat_until_the_decay():
    stage = {"schedule": "wsd", "steps": 1000, "decay_steps": 200, "warmup_steps": 100}
    assert stable_until(stage) == 800
    assert wsd_factor(0, 100, 800, 1000) == pytest.approx(0.01)
    assert wsd_factor(99, 100, 800, 1000) == 1.0
    assert wsd_factor(500, 100, 800, 1000) == wsd_factor(799, 100, 800, 1000) == 1.0
    assert 0.4 < wsd_factor(900, 100, 800, 1000) < 0.6
    assert wsd_factor(1000, 100, 800, 1000) == pytest.approx(0.01)
    # a longer run has the same schedule up to the shorter one's decay
    assert all(wsd_factor(s, 100, 800, 1000) == wsd_factor(s, 100, 5000, 6000) for s in range(800))


def test_validation_subsets_hold_what_their_names_say(cache_dir, tmp_path):
    cfg = pipeline.load_config(TINY_CONFIG)
    counts = data.write_val_set(cfg, cache_dir, str(tmp_path))
    assert counts == cfg["data"]["val_lines"]
    caps = [t for _, t in data.read_labels(str(tmp_path / "caps"))]
    assert all(t == t.upper() for t in caps), caps
    numbers = [t for _, t in data.read_labels(str(tmp_path / "numbers"))]
    assert all(any(c.isdigit() for c in t) or "Bằng chữ" in t for t in numbers), numbers
    modes = {line.split("\t")[2] for line in open(tmp_path / "hard" / "meta.tsv", encoding="utf-8")}
    assert modes == {"hard"}


def test_render_line_reads_the_same_after_preprocessing(cache_dir):
    """Training and serving preprocess through the same function: shapes follow the manifest."""
    cfg = pipeline.load_config(TINY_CONFIG)
    spec = input_spec(cfg, 4)
    font = data.font_families(cache_dir, "train")[0][0]
    x = data.render_sample("Xin chào", font, "degraded", np.random.default_rng(3), spec)
    assert x.shape[:2] == (1, spec["height"]) and x.shape[2] % spec["width_multiple"] == 0
    assert x.dtype == np.float32 and -1.0 <= x.min() and x.max() <= 1.0


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory, cache_dir):
    """data -> train -> ptq -> qat -> export -> evaluate -> report on the tiny config."""
    tmp = tmp_path_factory.mktemp("smoke")
    with open(TINY_CONFIG) as f:
        cfg = json.load(f)
    cfg["paths"] = {"cache": cache_dir, "val": str(tmp / "val"), "runs": str(tmp / "runs")}
    cfg["data"]["workers"] = 2  # the multi-worker stream, as real runs use
    cfg["export"]["repository"] = str(tmp / "repository")
    config = tmp / "smoke.json"
    config.write_text(json.dumps(cfg))
    assert pipeline.main(["--config", str(config)]) == 0
    return tmp, config


def test_pipeline_writes_every_variant_and_the_report(smoke_run):
    tmp, _ = smoke_run
    report = json.load(open(tmp / "runs" / "smoke" / "report.json"))
    assert set(report["variants"]) == {f"{c}-cnn_{s}-seq" for c in ("fp32", "ptq", "qat") for s in ("fp32", "dynamic")}
    for v in report["variants"].values():
        assert set(v["accuracy"]) == set(data.SUBSETS)
        assert v["latency_ms"]["onednn"]["batch1"] > 0
    shipped = Predictor(str(tmp / "repository" / "vocr_line"))
    assert shipped.manifest["evaluation"]["variants"].keys() == report["variants"].keys()
    assert shipped.manifest["training"]["fp32_steps"] == 40
    assert shipped.manifest["decode"]["length_bound"]["per_char"] == 1.25  # the length step fitted a head


def test_interrupted_training_resumes_where_it_stopped(smoke_run):
    """Slices of 10 and 30 steps end where one uninterrupted 40-step run ends: same data, same weights
    (10 is not a multiple of the stream's chunk cycle, so the resume has to skip batches)."""
    tmp, config = smoke_run
    cfg = json.load(open(config))
    cfg["paths"]["runs"] = str(tmp / "sliced-runs")
    os.makedirs(tmp / "sliced")
    sliced = tmp / "sliced" / "smoke.json"
    sliced.write_text(json.dumps(cfg))
    assert pipeline.main(["--config", str(sliced), "--steps", "train", "--step-budget", "10"]) == 3
    run = tmp / "sliced-runs" / "smoke"
    assert torch.load(run / "fp32.ckpt")["step"] == 10
    assert not (run / "fp32.pt").exists()
    assert pipeline.main(["--config", str(sliced), "--steps", "train"]) == 0
    log = [json.loads(line) for line in open(run / "fp32.log.jsonl")]
    assert [r["step"] for r in log if r.get("event") == "resume"] == [10]
    whole = torch.load(tmp / "runs" / "smoke" / "fp32.pt")
    resumed = torch.load(run / "fp32.pt")
    for name, tensor in whole.items():
        assert torch.allclose(tensor.float(), resumed[name].float(), atol=1e-4), name


def test_a_checkpoint_from_another_config_is_refused(smoke_run):
    tmp, config = smoke_run
    cfg = json.load(open(config))
    cfg["train"]["lr"] = 0.5
    cfg["train"]["steps"] = 60
    changed = tmp / "changed"
    os.makedirs(changed)
    (changed / "smoke.json").write_text(json.dumps(cfg))  # same run directory as the smoke run
    with pytest.raises(RuntimeError, match=r"fp32.ckpt belongs to another run \(differs in \['stage'\]\)"):
        pipeline.main(["--config", str(changed / "smoke.json"), "--steps", "train"])


def test_a_wsd_run_extends_from_where_its_decay_began(smoke_run):
    """16 steps (decay from 10), then the same config with 24 steps (decay from 18): the second call goes
    back to the step-10 state and ends with the weights of one uninterrupted 24-step run."""
    tmp, config = smoke_run

    def write(folder: str, steps: int):
        cfg = json.load(open(config))
        cfg["paths"]["runs"] = str(tmp / f"{folder}-runs")
        cfg["train"].update(schedule="wsd", steps=steps, decay_steps=6, warmup_steps=2)
        os.makedirs(tmp / folder, exist_ok=True)
        path = tmp / folder / "wsd.json"
        path.write_text(json.dumps(cfg))
        return str(path)

    assert pipeline.main(["--config", write("extended", 16), "--steps", "train"]) == 0
    run = tmp / "extended-runs" / "wsd"
    assert torch.load(run / "fp32.stable.ckpt")["step"] == 10
    assert pipeline.main(["--config", write("extended", 24), "--steps", "train"]) == 0
    log = [json.loads(line) for line in open(run / "fp32.log.jsonl")]
    assert [r["step"] for r in log if r.get("event") == "resume"] == [10]
    assert pipeline.main(["--config", write("straight", 24), "--steps", "train"]) == 0
    straight = torch.load(tmp / "straight-runs" / "wsd" / "fp32.pt")
    extended = torch.load(run / "fp32.pt")
    for name, tensor in straight.items():
        assert torch.allclose(tensor.float(), extended[name].float(), atol=1e-4), name

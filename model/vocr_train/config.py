"""A run's config and the pieces every training driver shares: where its
files go, the model it starts from, the input contract, the training batches
and the fingerprint that ties checkpoints to a config.

Kept apart from the pipeline so a driver on another machine (train_gpu.py,
under a newer torch) imports no quantization code.
"""
import copy
import json
import os

import torch

from vocr_train import data
from vocr_train.contract import runtime_manifest
from vocr_train.model import OcrModel
from vocr_train.vocab import MODEL_DIR, Vocab


def load_config(path: str) -> dict:
    """Read a JSON config. Relative paths in it are relative to model/; the
    resolved ones go to cfg['paths'], the file's own content to cfg['source']."""
    with open(path, encoding="utf-8") as f:
        source = json.load(f)
    cfg = copy.deepcopy(source)
    cfg["source"] = source
    paths = cfg.setdefault("paths", {})
    for key, default in (("cache", "build/cache"), ("val", "build/val"), ("runs", "build/runs")):
        paths[key] = os.path.join(MODEL_DIR, paths.get(key, default))
    paths["run"] = os.path.join(paths["runs"], os.path.splitext(os.path.basename(path))[0])
    paths["repository"] = os.path.join(MODEL_DIR, cfg["export"]["repository"])
    cfg.setdefault("step_budget", 0)
    return cfg


def run_file(cfg: dict, name: str) -> str:
    return os.path.join(cfg["paths"]["run"], name)


def new_model(cfg: dict) -> OcrModel:
    torch.manual_seed(cfg["seed"])
    vocab = Vocab()
    model = OcrModel(cfg, len(vocab), blank=vocab.pad)
    # The length head trains with the model only in joint training
    # (train.length_weight); otherwise it is fitted afterwards on the
    # trained, frozen model (length_head.fit_length_head).
    model.seq.length_head.requires_grad_(bool(cfg["train"].get("length_weight", 0.0)))
    return model


def contract(cfg: dict, model: OcrModel, with_length_head: bool = False) -> dict:
    return runtime_manifest(cfg, model.backbone.stride, Vocab(), with_length_head)


def fingerprint(cfg: dict, stage: str, **extra) -> dict:
    """What a training stage's result depends on (bookkeeping such as log intervals left out)."""
    bookkeeping = ("log_every", "eval_every", "checkpoint_every", "threads")
    if cfg[stage].get("schedule") == "wsd":
        bookkeeping += ("steps", "decay_steps")  # a WSD run can be extended; train_loop checks where it stands
    data_keys = [k for k in cfg["data"] if k not in ("eval_lines", "val_lines")]
    # split_width only says how the bundle reads long lines, not how it is trained.
    model_input = {k: v for k, v in cfg["input"].items() if k != "split_width"}
    return dict({k: cfg[k] for k in ("seed", "model")}, input=model_input, data={k: cfg["data"][k] for k in data_keys},
                stage={k: v for k, v in cfg[stage].items() if k not in bookkeeping}, **extra)


def batches(cfg: dict, manifest: dict):
    return lambda step: data.train_loader(cfg, manifest["input"], cfg["paths"]["cache"], step)

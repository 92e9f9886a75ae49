"""The whole trainer pipeline from one config, each step also runnable alone.

    cd model && /usr/bin/python3 -m vocr_train.pipeline --config configs/default.json
    cd model && /usr/bin/python3 -m vocr_train.pipeline --config configs/default.json --steps qat,export

Steps, in order (each reads what the previous ones left in the run directory
`build/runs/<config name>/`):
  data      build the text corpus cache, scan fonts, render the validation set
  train     fp32 training with teacher forcing (resumable)              -> fp32.ckpt, fp32.pt
  ptq       post-training static quantization of the CNN (baseline)     -> ptq_cnn.pt
  qat       QAT fine-tune of the CNN; each eval scores the converted int8 CNN -> qat.ckpt, qat_cnn.pt
  length    fit the length head (CTC on the frozen encoder) that bounds decoding -> length_head.pt
  export    six variant bundles (fp32/PTQ/QAT CNN x fp32/dynamic-int8 decoder), and the shipped one
  evaluate  CER, line accuracy, size and latency of every variant       -> report.json
  report    the table into every manifest and (if configured) model/README.md

The train step can run on a lent GPU machine instead (train_gpu.py, which
imports its result into the same run directory); the others run here.
"""
import argparse
import hashlib
import itertools
import json
import os
import shutil
import sys
import time
from typing import Dict, List, Optional

import torch

from predictor import sha256_file
from vocr_train import data, from_bundle, quantize, render, render_pango
from vocr_train.config import batches, contract, fingerprint, load_config, new_model, run_file
from vocr_train.evaluate import evaluate, load_subset
from vocr_train.export import VARIANTS, export_bundle, update_manifest, variant_name
from vocr_train.length_head import fit_length_head
from vocr_train.model import OcrModel, count_macs, count_parameters, load_weights
from vocr_train.render import scan_fonts
from vocr_train.report import measure_variants, write_report
from vocr_train.tesseract_baseline import evaluate_tesseract
from vocr_train.corpus import build_corpus
from vocr_train.train import JsonLog, Slice, Stage, set_threads, train_loop
from vocr_train.vocab import MODEL_DIR, Vocab


class Incomplete(Exception):
    """A training stage stopped at its step budget; run the pipeline again to go on."""


def shipped_dir(cfg: dict) -> str:
    return os.path.join(cfg["paths"]["repository"], cfg["name"], str(cfg["export"]["version"]))


def variant_dir(cfg: dict, cnn: str, seq: str) -> str:
    return run_file(cfg, os.path.join("variants", variant_name(cnn, seq)))


def val_subsets(cfg: dict, limit: int = 0) -> Dict:
    return {s: load_subset(os.path.join(cfg["paths"]["val"], s), limit) for s in data.SUBSETS}


def load_fp32(cfg: dict, with_length_head: bool = True) -> OcrModel:
    """The trained model, with the length head fitted afterwards if there is one."""
    model = new_model(cfg)
    load_weights(model, torch.load(run_file(cfg, "fp32.pt")))
    fitted = fitted_length_head(cfg) if with_length_head else None
    if fitted:
        model.seq.length_head.load_state_dict(fitted["state"])
    return model.eval()


def fitted_length_head(cfg: dict) -> Optional[dict]:
    """What the length step saved, if it fitted the head to these very fp32 weights."""
    path = run_file(cfg, "length_head.pt")
    if not os.path.exists(path):
        return None
    saved = torch.load(path)
    return saved if saved["fp32"] == sha256_file(run_file(cfg, "fp32.pt")) else None


def has_length_head(cfg: dict) -> bool:
    """Trained with the model (joint training), or fitted afterwards."""
    return cfg["train"].get("length_weight", 0.0) > 0 or fitted_length_head(cfg) is not None


def drawing_code_digest() -> str:
    """What the validation images depend on besides text and fonts: the
    renderers' code and the subset specifications."""
    digest = hashlib.sha256(json.dumps(data.SUBSET_SPECS, sort_keys=True).encode())
    for module in (render, render_pango):
        with open(module.__file__, "rb") as f:
            digest.update(f.read())
    return digest.hexdigest()


def step_data(cfg: dict) -> None:
    charset = Vocab().chars
    corpus = build_corpus(cfg["paths"]["cache"], charset)
    fonts = scan_fonts(charset, cfg["paths"]["cache"])
    print(f"corpus: {corpus}; fonts: {len(fonts['train'])} train, {len(fonts['val'])} val, "
          f"{len(fonts['dropped'])} dropped")
    # The set is rebuilt whenever anything it is drawn from changes.
    key = {"seed": cfg["seed"], "val_lines": cfg["data"]["val_lines"], "max_chars": cfg["data"]["max_chars"],
           "corpus": corpus, "fonts": hashlib.sha256("\n".join(fonts["val"]).encode()).hexdigest(),
           "drawing": drawing_code_digest()}
    marker = os.path.join(cfg["paths"]["val"], "done.json")
    if os.path.exists(marker):
        with open(marker) as f:
            if json.load(f).get("key") == key:
                print("validation set: up to date")
                return
    counts = data.write_val_set(cfg, cfg["paths"]["cache"], cfg["paths"]["val"])
    with open(marker, "w") as f:
        json.dump({"key": key, "counts": counts}, f)
    print("validation set:", counts)


def step_train(cfg: dict) -> None:
    model = new_model(cfg)
    manifest = contract(cfg, model)
    start = cfg["train"].get("init_from")  # a bundle to fine-tune, instead of random weights
    if start and not os.path.exists(run_file(cfg, "fp32.ckpt")):
        from_bundle.load_model(model, os.path.join(MODEL_DIR, start), cfg["engine"],
                               calibration_images(cfg, manifest))
    subsets = val_subsets(cfg, cfg["data"]["eval_lines"])
    stage = Stage("fp32", cfg["train"], cfg["paths"]["run"], fingerprint(cfg, "train"))
    result = train_loop(model, cfg, stage, batches(cfg, manifest),
                        lambda m: evaluate(m.backbone, m.seq, manifest, subsets), part=Slice(budget=cfg["step_budget"]))
    print("fp32:", result)
    if not result["complete"]:
        raise Incomplete(f"fp32 training stopped at step {result['steps']} of {cfg['train']['steps']}")
    torch.save(model.state_dict(), run_file(cfg, "fp32.pt"))


def calibration_images(cfg: dict, manifest: dict) -> List[torch.Tensor]:
    """Training batches for PTQ calibration, from far down the stream (not seen in training)."""
    loader = data.train_loader(dict(cfg, data=dict(cfg["data"], workers=0)), manifest["input"],
                               cfg["paths"]["cache"], step=10 ** 8)
    return [b["images"] for b in itertools.islice(loader, cfg["ptq"]["calibration_batches"])]


def step_ptq(cfg: dict) -> None:
    model = load_fp32(cfg)
    manifest = contract(cfg, model)
    ptq = quantize.ptq_backbone(model.backbone, calibration_images(cfg, manifest), cfg["engine"])
    torch.jit.save(torch.jit.script(ptq), run_file(cfg, "ptq_cnn.pt"))
    print("ptq:", evaluate(ptq, model.seq, manifest, val_subsets(cfg, cfg["data"]["eval_lines"])))


def qat_data(cfg: dict) -> dict:
    """QAT always runs on this machine's torch, also after fp32 training on a
    GPU machine with bigger batches and more workers: the qat stage may set
    its own `batch_size` and `workers`."""
    qat = cfg["qat"]
    return dict(cfg, train=dict(cfg["train"], batch_size=qat.get("batch_size", cfg["train"]["batch_size"])),
                data=dict(cfg["data"], workers=qat.get("workers", cfg["data"]["workers"])))


def step_qat(cfg: dict) -> None:
    model = load_fp32(cfg)
    manifest = contract(cfg, model)
    quantize.prepare_qat_backbone(model.backbone, cfg["engine"])
    # Only the CNN is fine-tuned: the decoder stays the fp32 one, so QAT and
    # PTQ rows of the report differ in how the CNN was quantized and nothing else.
    model.seq.requires_grad_(False)
    subsets = val_subsets(cfg, cfg["data"]["eval_lines"])
    qat = cfg["qat"]
    stage = Stage("qat", qat, cfg["paths"]["run"], fingerprint(cfg, "qat", fp32=sha256_file(run_file(cfg, "fp32.pt"))))
    result = train_loop(
        model, cfg, stage, batches(qat_data(cfg), manifest),
        # Score the converted int8 CNN, not only the fake-quant one.
        lambda m: evaluate(quantize.convert_backbone(m.backbone), m.seq, manifest, subsets),
        on_step=quantize.qat_schedule(qat["freeze_observers_at"], qat["freeze_bn_at"]),
        part=Slice(budget=cfg["step_budget"]))
    print("qat:", result)
    if not result["complete"]:
        raise Incomplete(f"QAT stopped at step {result['steps']} of {qat['steps']}")
    torch.jit.save(torch.jit.script(quantize.convert_backbone(model.backbone)), run_file(cfg, "qat_cnn.pt"))


def step_length(cfg: dict) -> None:
    if "length_head" not in cfg:
        print("the config has no length_head block: readings are bounded by the line's width only")
        return
    model = load_fp32(cfg, with_length_head=False)
    settings = cfg["length_head"]
    stream = dict(cfg, train=dict(cfg["train"], batch_size=settings["batch_size"]))
    # Lines far down the stream, which training never reached (calibration reads further still).
    loader = data.train_loader(stream, contract(cfg, model)["input"], cfg["paths"]["cache"], step=5 * 10 ** 7)
    result = fit_length_head(model, loader, settings["steps"], settings["lr"], Vocab().first,
                             log=JsonLog(run_file(cfg, "length_head.log.jsonl")))
    torch.save({"fp32": sha256_file(run_file(cfg, "fp32.pt")), "state": model.seq.length_head.state_dict(),
                **result}, run_file(cfg, "length_head.pt"))
    subsets = val_subsets(cfg, cfg["data"]["eval_lines"])
    for bounded in (False, True):
        print("length bound" if bounded else "width bound only", evaluate(
            model.backbone, model.seq, contract(cfg, model, with_length_head=bounded), subsets))


def training_info(cfg: dict) -> dict:
    """The exact config as written, the seed, and each stage's steps and last in-training evaluation."""
    info = {"config": cfg["source"], "seed": cfg["seed"]}
    for stage in ("fp32", "qat"):
        path = run_file(cfg, f"{stage}.ckpt")
        if os.path.exists(path):
            state = torch.load(path, map_location="cpu")
            info[f"{stage}_steps"] = state["step"]
            info[f"{stage}_eval_during_training"] = state.get("eval", {})
    gpu_run = run_file(cfg, "gpu-run.json")  # fp32 trained elsewhere (train_gpu.py): no fp32.ckpt here
    if "fp32_steps" not in info and os.path.exists(gpu_run):
        with open(gpu_run, encoding="utf-8") as f:
            run = json.load(f)
        info["fp32_steps"] = run["steps_done"]
        info["fp32_trained_on"] = {k: run[k] for k in ("gpu", "torch", "seconds", "stable_steps", "steps_per_s")}
    return info


def step_export(cfg: dict) -> None:
    quantize.use_engine(cfg["engine"])
    fp32 = load_fp32(cfg)
    cnns = {"fp32": fp32.backbone, "ptq": torch.jit.load(run_file(cfg, "ptq_cnn.pt")),
            "qat": torch.jit.load(run_file(cfg, "qat_cnn.pt"))}
    calibration = calibration_images(cfg, contract(cfg, fp32))
    # The int8 seq's feature range is calibrated on the CNN it is paired with.
    seqs = {(cnn, "fp32"): fp32.seq for cnn in cnns}
    seqs.update({(cnn, "dynamic"): quantize.dynamic_seq(fp32.seq, quantize.feature_bound(cnns[cnn], calibration))
                 for cnn in cnns})
    training = training_info(cfg)
    with_length_head = has_length_head(cfg)
    shipped = tuple(cfg["export"]["shipped"])  # (cnn, seq) variant served by default
    for cnn, seq in VARIANTS:
        targets = [variant_dir(cfg, cnn, seq)] + ([shipped_dir(cfg)] if (cnn, seq) == shipped else [])
        for target in targets:
            export_bundle(target, cfg, cnns[cnn], seqs[cnn, seq], fp32.backbone, fp32.seq, cnn, seq, cfg["engine"],
                          training=training, with_length_head=with_length_head)
            print("exported", target)


def step_evaluate(cfg: dict) -> None:
    model = load_fp32(cfg)
    variants = {variant_name(c, s): variant_dir(cfg, c, s) for c, s in VARIANTS}
    per_subset = cfg["report"]["latency_lines"] // len(data.SUBSETS)
    timing_paths = [path for s in data.SUBSETS
                    for path, _ in data.read_labels(os.path.join(cfg["paths"]["val"], s), per_subset)]
    report = measure_variants(variants, cfg["paths"]["val"], timing_paths, cfg["report"])
    if shutil.which("tesseract"):
        report["tesseract"] = evaluate_tesseract(cfg["paths"]["val"])
    report["model"] = {"parameters": count_parameters(model), "cnn_parameters": count_parameters(model.backbone),
                       "macs_per_line": {f"width {w}, {c} chars": count_macs(model, cfg, w, c)
                                         for w, c in cfg["report"]["macs_at"]}}
    with open(run_file(cfg, "report.json"), "w") as f:
        json.dump(report, f, indent=1)


def step_report(cfg: dict) -> None:
    with open(run_file(cfg, "report.json")) as f:
        report = json.load(f)
    readme = os.path.join(MODEL_DIR, "README.md") if cfg["report"].get("readme") else None
    table = write_report(report, readme, cfg)
    for cnn, seq in VARIANTS:
        update_manifest(variant_dir(cfg, cnn, seq), evaluation=report)
    update_manifest(shipped_dir(cfg), evaluation=report)
    print(table)


STEPS = {"data": step_data, "train": step_train, "ptq": step_ptq, "qat": step_qat, "length": step_length,
         "export": step_export, "evaluate": step_evaluate, "report": step_report}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True)
    parser.add_argument("--steps", default=",".join(STEPS), help="comma-separated subset of: " + ",".join(STEPS))
    parser.add_argument("--step-budget", type=int, default=0,
                        help="train at most this many steps in this call, checkpoint and stop (0: no limit)")
    args = parser.parse_args(argv)
    cfg = load_config(args.config)
    cfg["step_budget"] = args.step_budget
    steps = args.steps.split(",")
    unknown = [s for s in steps if s not in STEPS]
    if unknown:
        parser.error(f"unknown steps {unknown}; choose from {list(STEPS)}")
    os.makedirs(cfg["paths"]["run"], exist_ok=True)
    set_threads(cfg["train"]["threads"])
    for name, step in STEPS.items():
        if name in steps:
            start = time.time()
            print(f"== {name}", flush=True)
            try:
                step(cfg)
            except Incomplete as e:
                print(f"== {e}; run the same command again to resume", flush=True)
                return 3
            print(f"== {name} done in {time.time() - start:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

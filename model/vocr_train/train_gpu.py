"""fp32 training on a lent CUDA machine within a wall-clock budget, and
bringing the result back into a run directory here.

The WSD schedule lets a run fit a time budget on a machine whose speed is
not known beforehand: the stable phase does not depend on the run's length,
so the driver trains at the constant rate until `stable_share` of the budget
is spent (S steps), measures the step rate, and then decays over the D steps
that fit in the rest. That run is the pipeline's fp32 stage for a config with
steps = S + D and decay_steps = D; the driver writes that config into
run.json, so the pipeline can reproduce the run on any machine, only slower.

It runs under the lent machine's own python3 and torch 2.x. QAT, dynamic
quantization and export must run on this machine's torch 1.13, so what comes
back is the final weights as a numpy .npz, which any torch version reads,
and the checkpoint where the decay began (cut into parts of at most 15 MB:
no file over 16 MB comes back), from which a longer run can go on.

    there: python3 -m vocr_train.train_gpu --config configs/gpu.json --carry DIR --out $OUT --seconds 480
    here:  /usr/bin/python3 -m vocr_train.train_gpu --config configs/gpu.json --import-from DIR
"""
import argparse
import copy
import glob
import json
import os
import shutil
import statistics
import time

import numpy as np
import torch

from vocr_train import carry
from vocr_train.model import load_weights
from vocr_train.config import batches, contract, fingerprint, load_config, new_model, run_file
from vocr_train.train import Slice, Stage, train_loop

PART_BYTES = 15 * 2 ** 20
FAR = 10 ** 9  # a step count no run reaches: no decay, no evaluation


def save_parts(path: str, out_dir: str, name: str) -> None:
    """Copy `path` into out_dir as <name>.part0, .part1, ... of at most PART_BYTES."""
    with open(path, "rb") as f:
        for i, chunk in enumerate(iter(lambda: f.read(PART_BYTES), b"")):
            with open(os.path.join(out_dir, f"{name}.part{i}"), "wb") as part:
                part.write(chunk)


def join_parts(src_dir: str, name: str, dest: str) -> bool:
    parts = sorted(glob.glob(os.path.join(src_dir, f"{name}.part*")), key=lambda p: int(p.rsplit("part", 1)[1]))
    if not parts:
        return False
    with open(dest + ".tmp", "wb") as out:
        for p in parts:
            with open(p, "rb") as f:
                shutil.copyfileobj(f, out)
    os.replace(dest + ".tmp", dest)
    return True


def steps_per_second(log_path: str, batch_size: int, steps: int, seconds: float) -> float:
    """Median rate of the logged windows, the first (workers starting) left
    out; the plain average where too few windows were logged."""
    rates = []
    if os.path.exists(log_path):
        with open(log_path, encoding="utf-8") as f:
            rates = [r["images_per_s"] for r in map(json.loads, f) if "images_per_s" in r]
    return statistics.median(rates[1:]) / batch_size if len(rates) > 1 else steps / seconds


def train_within(cfg: dict, seconds: float, stable_share: float, out_dir: str, extend: str = "") -> dict:
    """Stable phase for stable_share of `seconds`, then a decay that fits the
    rest; `extend` names a folder with an earlier run's fp32.stable.ckpt parts
    to go on from."""
    start = time.time()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.backends.cuda.matmul.allow_tf32 = True
    run_dir = cfg["paths"]["run"]
    shutil.rmtree(run_dir, ignore_errors=True)  # a budgeted run starts afresh
    os.makedirs(run_dir)
    os.makedirs(out_dir, exist_ok=True)
    if extend and not join_parts(extend, "fp32.stable.ckpt", run_file(cfg, "fp32.ckpt")):
        raise SystemExit(f"no fp32.stable.ckpt.part* in {extend} to extend")
    train = dict(cfg["train"], eval_every=FAR, log_every=100, checkpoint_every=1000)
    cfg = dict(cfg, train=train)
    model = new_model(cfg)
    manifest = contract(cfg, model)

    def run(stage: dict, deadline: float) -> dict:
        return train_loop(model, cfg, Stage("fp32", stage, run_dir, fingerprint(cfg, "train")), batches(cfg, manifest),
                          lambda m: {}, part=Slice(deadline=deadline, device=device))

    stable = run(dict(train, steps=FAR, decay_steps=1), start + stable_share * seconds)["steps"]
    save_parts(run_file(cfg, "fp32.ckpt"), out_dir, "fp32.stable.ckpt")  # where the decay begins
    rate = steps_per_second(run_file(cfg, "fp32.log.jsonl"), train["batch_size"], stable, time.time() - start)
    restart = 20.0  # data workers starting again
    decay = max(1, int(rate * (start + seconds - time.time() - restart)))
    final = dict(train, steps=stable + decay, decay_steps=decay)
    print(f"stable phase: {stable} steps at {rate:.1f} steps/s; decaying over {decay} steps", flush=True)
    done = run(final, start + seconds + 30)["steps"]
    np.savez(os.path.join(out_dir, "fp32.npz"), **{k: v.numpy() for k, v in model.state_dict().items()})
    shutil.copy(run_file(cfg, "fp32.log.jsonl"), out_dir)
    source = copy.deepcopy(cfg["source"])
    source["train"].update(steps=stable + decay, decay_steps=decay)
    result = {"config": source, "stable_steps": stable, "steps_done": done, "complete": done == stable + decay,
              "steps_per_s": round(rate, 2), "seconds": round(time.time() - start, 1), "device": device,
              "gpu": torch.cuda.get_device_name() if device == "cuda" else None, "torch": torch.__version__}
    with open(os.path.join(out_dir, "run.json"), "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1)
    return result


def import_run(cfg: dict, src: str) -> None:
    """Fill this config's run directory from what train_within wrote to `src`."""
    with open(os.path.join(src, "run.json"), encoding="utf-8") as f:
        result = json.load(f)
    for key in ("steps", "decay_steps"):
        if result["config"]["train"][key] != cfg["train"][key]:
            raise SystemExit(f"the run trained train.{key} = {result['config']['train'][key]}; "
                             f"put that into the config first")
    run_dir = cfg["paths"]["run"]
    os.makedirs(run_dir, exist_ok=True)
    weights = np.load(os.path.join(src, "fp32.npz"))
    model = new_model(cfg)
    load_weights(model, {k: torch.from_numpy(weights[k]) for k in weights.files})
    torch.save(model.state_dict(), run_file(cfg, "fp32.pt"))
    # No fp32.ckpt: the pipeline's train step would then redo the run from
    # scratch here; fp32.stable.ckpt lets a longer config extend it.
    join_parts(src, "fp32.stable.ckpt", run_file(cfg, "fp32.stable.ckpt"))
    shutil.copy(os.path.join(src, "fp32.log.jsonl"), run_dir)
    shutil.copy(os.path.join(src, "run.json"), run_file(cfg, "gpu-run.json"))
    print(f"imported {result['steps_done']} steps ({result['seconds']} s on {result['gpu']}) into {run_dir}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", required=True)
    ap.add_argument("--carry", help="folder written by vocr_train.carry (train there)")
    ap.add_argument("--out", help="where the results go (train there)")
    ap.add_argument("--seconds", type=float, default=480)
    ap.add_argument("--stable-share", type=float, default=0.75)
    ap.add_argument("--extend", default="", help="folder with an earlier run's fp32.stable.ckpt parts (train there)")
    ap.add_argument("--import-from", help="folder of results to import (here)")
    args = ap.parse_args()
    cfg = load_config(args.config)
    if args.import_from:
        import_run(cfg, args.import_from)
        return
    cfg["paths"]["cache"] = carry.unpack(args.carry)
    cfg["paths"]["run"] = os.path.join("/tmp", "vocr-gpu-run")
    print(json.dumps(train_within(cfg, args.seconds, args.stable_share, args.out, args.extend), indent=1))


if __name__ == "__main__":
    main()

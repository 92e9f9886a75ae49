"""The training loop shared by fp32 training and QAT fine-tuning.

Teacher forcing, AdamW, a one-cycle, cosine or warmup-stable-decay (WSD)
schedule, gradient clipping. A checkpoint holds model, optimizer, scheduler,
step and config, written atomically every `checkpoint_every` steps, so a
killed run resumes where it stopped (the data stream resumes at the same
chunk too).

WSD keeps the learning rate constant after the warmup and decays it only in
the last `decay_steps`. Until the decay starts, a run does not depend on its
total length, so a long run can be extended across sessions: the state at
the start of the decay is kept in `<name>.stable.ckpt`, and a config with more
`steps` resumes from there, trains the stable phase further and decays again.
"""
import json
import math
import os
import time
from typing import Callable, Dict, Iterable, NamedTuple, Optional

import cv2
import torch
import torch.nn.functional as F

from vocr_train.length_head import ctc_length_loss
from vocr_train.model import load_weights
from vocr_train.vocab import Vocab


def set_threads(n: int) -> None:
    """torch defaults to 1 thread on this machine; the config says how many."""
    torch.set_num_threads(n)
    cv2.setNumThreads(1)


def sequence_loss(log_probs: torch.Tensor, targets: torch.Tensor, pad: int, smoothing: float) -> torch.Tensor:
    """NLL over non-pad targets, mixed with a uniform target (label smoothing)."""
    v = log_probs.size(-1)
    flat, tgt = log_probs.reshape(-1, v), targets.reshape(-1)
    keep = tgt != pad
    nll = F.nll_loss(flat[keep], tgt[keep])
    uniform = -flat[keep].mean(1).mean()
    return (1.0 - smoothing) * nll + smoothing * uniform


def batch_loss(model: torch.nn.Module, batch: Dict[str, torch.Tensor], images: torch.Tensor, smoothing: float,
               length_weight: float) -> torch.Tensor:
    """The decoder's teacher-forced loss; with `length_weight` > 0 mixed with the
    length head's CTC loss on the same encoding (joint CTC/attention training)."""
    vocab = Vocab()
    lengths = model.feature_lengths(batch["widths"])
    memory, keys, mask, hidden = model.seq.encode(model.backbone(images), lengths)
    log_probs = model.seq.teacher_forced(memory, keys, mask, hidden, batch["inputs"])
    decoder = sequence_loss(log_probs, batch["targets"], vocab.pad, smoothing)
    if not length_weight:
        return decoder
    ctc = ctc_length_loss(model.seq, memory, lengths, batch["targets"], vocab.first)
    return (1.0 - length_weight) * decoder + length_weight * ctc


def stable_until(stage: dict) -> int:
    """The step where a WSD schedule starts its decay (the total for other schedules)."""
    return stage["steps"] - stage["decay_steps"] if stage.get("schedule") == "wsd" else stage["steps"]


def wsd_factor(step: int, warmup: int, stable: int, total: int) -> float:
    """Linear warmup, constant, then a cosine decay to 1% over the last steps."""
    if step < warmup:
        return (step + 1) / warmup
    if step < stable:
        return 1.0
    done = min(1.0, (step - stable) / max(1, total - stable))
    return 0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * done))


def make_schedule(optimizer, stage: dict):
    steps = stage["steps"]
    if stage.get("schedule") == "wsd":
        warmup, stable = stage["warmup_steps"], stable_until(stage)
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: wsd_factor(s, warmup, stable, steps))
    if stage.get("schedule", "onecycle") == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=stage["lr"], total_steps=steps,
                                                   pct_start=stage.get("warmup", 0.1))
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps)))


def save_atomic(obj, path: str) -> None:
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


class JsonLog:
    """Appends one JSON object per line and echoes a short form to stdout."""

    def __init__(self, path: str):
        self.path = path

    def __call__(self, **record) -> None:
        record["time"] = round(time.time(), 1)
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
        print(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in record.items()), flush=True)


class Stage(NamedTuple):
    """One resumable training stage: `name` names its checkpoint and log in
    `run_dir`; `settings` holds its steps, learning rate and schedule;
    `fingerprint` (what its result depends on) is stored in the checkpoint, and
    a checkpoint with another fingerprint is refused rather than silently
    continued with a different config or a different parent model."""
    name: str
    settings: dict
    run_dir: str
    fingerprint: dict


class Slice(NamedTuple):
    """How much of a stage one call runs, and where: `budget` > 0 stops after
    that many steps (checkpointed), for training in slices; `deadline`
    (a time.time() value, 0 for none) does the same at a wall-clock time;
    `device` is where the steps run (the model is back on the CPU after)."""
    budget: int = 0
    deadline: float = 0.0
    device: str = "cpu"


def train_loop(model: torch.nn.Module, cfg: dict, stage: Stage,
               make_loader: Callable[[int], Iterable[Dict[str, torch.Tensor]]],
               evaluate_fn: Callable[[torch.nn.Module], Dict],
               on_step: Optional[Callable[[torch.nn.Module, int], None]] = None, part: Slice = Slice()) -> Dict:
    """Train `model` for the stage's steps; resumes from its checkpoint if present.

    `make_loader(step)` gives the batches from `step` on; `on_step(model, step)`
    runs before each step. Only parameters with requires_grad are trained.
    """
    name, run_dir, fingerprint = stage.name, stage.run_dir, stage.fingerprint
    budget, deadline, device = part
    stage = stage.settings
    set_threads(cfg["train"]["threads"])
    model.to(device)  # before the optimizer exists, so its state lands on the device too
    ckpt_path = os.path.join(run_dir, f"{name}.ckpt")
    log = JsonLog(os.path.join(run_dir, f"{name}.log.jsonl"))
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=stage["lr"], weight_decay=stage.get("weight_decay", 0.01))
    scheduler = make_schedule(optimizer, stage)
    step, last_eval = 0, {}
    stable_path = os.path.join(run_dir, f"{name}.stable.ckpt")
    if os.path.exists(ckpt_path):
        state = torch.load(ckpt_path, map_location="cpu", weights_only=False)
        written_for = state.get("stable_until", stable_until(stage))
        if (stage.get("schedule") == "wsd" and written_for != stable_until(stage)
                and state["step"] > min(written_for, stable_until(stage))):
            # Past the decay of a run of another length: go back to where it left the stable phase.
            if not os.path.exists(stable_path):
                raise RuntimeError(f"{ckpt_path} is at step {state['step']}, past the stable phase, "
                                   f"and {stable_path} is missing")
            state = torch.load(stable_path, map_location="cpu", weights_only=False)
            if state["step"] > stable_until(stage):
                raise RuntimeError(f"{stable_path} is at step {state['step']}, beyond this config's "
                                   f"stable phase ({stable_until(stage)} steps); raise steps")
        if state.get("fingerprint") != fingerprint:
            changed = sorted(k for k in set(fingerprint) | set(state.get("fingerprint") or {})
                             if fingerprint.get(k) != (state.get("fingerprint") or {}).get(k))
            raise RuntimeError(f"{ckpt_path} belongs to another run (differs in {changed}); "
                               "move it away to start over, or use a new config name")
        load_weights(model, state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        step, last_eval = state["step"], state.get("eval", {})
        log(event="resume", stage=name, step=step)

    def checkpoint(path: str = ckpt_path):
        save_atomic({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                     "scheduler": scheduler.state_dict(), "step": step, "config": cfg, "fingerprint": fingerprint,
                     "eval": last_eval, "stable_until": stable_until(stage)}, path)

    channels_last = cfg["train"].get("channels_last", False)
    if channels_last:
        model.to(memory_format=torch.channels_last)
    smoothing = cfg["train"].get("label_smoothing", 0.0)
    window = {"start": time.perf_counter(), "images": 0, "wait": 0.0, "loss": 0.0, "n": 0}
    stop = min(stage["steps"], step + budget) if budget > 0 else stage["steps"]
    loader = iter(make_loader(step)) if step < stop else iter(())
    model.train()
    while step < stop:
        t0 = time.perf_counter()
        batch = next(loader)
        window["wait"] += time.perf_counter() - t0
        if on_step:
            on_step(model, step)
        batch = {k: v.to(device) for k, v in batch.items()}
        images = batch["images"].to(memory_format=torch.channels_last) if channels_last else batch["images"]
        loss = batch_loss(model, batch, images, smoothing, stage.get("length_weight", 0.0))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, stage.get("clip", 5.0))
        optimizer.step()
        scheduler.step()
        step += 1
        if deadline and time.time() >= deadline:
            stop = step
        window["images"] += images.size(0)
        window["loss"] += float(loss.detach())
        window["n"] += 1
        if step % cfg["train"]["log_every"] == 0 or step == stage["steps"]:
            seconds = time.perf_counter() - window["start"]
            log(stage=name, step=step, loss=window["loss"] / window["n"], lr=scheduler.get_last_lr()[0],
                images_per_s=window["images"] / seconds, data_wait_s=window["wait"])
            window.update(start=time.perf_counter(), images=0, wait=0.0, loss=0.0, n=0)
        if step % stage["eval_every"] == 0 or step == stage["steps"]:
            model.eval()
            last_eval = evaluate_fn(model)
            model.train()
            log(stage=name, step=step, event="eval", **{f"{k}_{m}": v[m] for k, v in last_eval.items()
                                                        for m in ("cer", "line_acc")})
        if step % cfg["train"]["checkpoint_every"] == 0 or step == stop:
            checkpoint()
        if step == stable_until(stage) and stage.get("schedule") == "wsd":
            checkpoint(stable_path)
    if channels_last:
        model.to(memory_format=torch.contiguous_format)
    model.to("cpu")
    model.eval()
    return {"steps": step, "complete": step >= stage["steps"], "eval": last_eval}

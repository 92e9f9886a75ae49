"""Fit the length head: a CTC classifier over the trained encoder's columns.

The attention decoder now and then loops (a word or a symbol repeated until
the step limit) or invents text on a short, hard line. Its only bound used
to be the line's width. The length head reads the same encoder memory the
decoder attends to, column by column, with CTC; its greedy reading length
is a second, learned bound (manifest decode.length_bound), the same in the
predictor and the server.

The head is trained either with the model (joint CTC/attention training:
`train.length_weight` mixes its loss into the decoder's, and the encoder
learns from both), or fitted afterwards on the trained model with
everything else frozen (the pipeline's `length` step), on training lines far
down the data stream: a linear layer on fixed features, which cannot change
what the attention decoder reads.
"""
import math
import time
from typing import Callable, Dict, Iterable

import torch
import torch.nn.functional as F

from vocr_train.model import OcrModel


def ctc_targets(targets: torch.Tensor, first_char: int):
    """Padded decoder targets [B, L] (characters, then eos, then pad) -> the
    concatenated character ids and each line's count, as F.ctc_loss takes them."""
    chars = targets >= first_char
    return targets[chars], chars.sum(1)


def ctc_length_loss(seq, memory: torch.Tensor, lengths: torch.Tensor, targets: torch.Tensor,
                    first_char: int) -> torch.Tensor:
    """The length head's CTC loss over an encoding (memory [B, T, M], lengths [B]) of lines
    whose decoder targets are `targets`."""
    log_probs = F.log_softmax(seq.length_head(memory), 2)
    chars, counts = ctc_targets(targets, first_char)
    # zero_infinity: a line with more characters (and repeats) than columns has no alignment.
    return F.ctc_loss(log_probs.transpose(0, 1), chars, lengths, counts, blank=seq.blank, zero_infinity=True)


def length_loss(model: OcrModel, batch: Dict[str, torch.Tensor], first_char: int) -> torch.Tensor:
    """The CTC loss with the rest of the model frozen (no gradient through the encoding)."""
    with torch.no_grad():
        lengths = model.feature_lengths(batch["widths"])
        memory, _, _, _ = model.seq.encode(model.backbone(batch["images"]), lengths)
    return ctc_length_loss(model.seq, memory, lengths, batch["targets"], first_char)


def fit_length_head(model: OcrModel, loader: Iterable[Dict[str, torch.Tensor]], steps: int, lr: float,
                    first_char: int, log: Callable[..., None] = print) -> Dict[str, float]:
    """Train only model.seq.length_head for `steps` batches; the rest stays as it is, in eval mode."""
    model.eval()
    model.requires_grad_(False)
    head = model.seq.length_head
    head.requires_grad_(True)
    optimizer = torch.optim.AdamW(head.parameters(), lr=lr, weight_decay=0.0)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 0.5 * (1 + math.cos(math.pi * s / steps)))
    window, start, total = [], time.perf_counter(), 0.0
    for step, batch in zip(range(1, steps + 1), loader):
        loss = length_loss(model, batch, first_char)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        window.append(float(loss))
        if step % 25 == 0 or step == steps:
            total = sum(window) / len(window)
            log(stage="length_head", step=step, loss=round(total, 4), seconds=round(time.perf_counter() - start, 1))
            window = []
    head.requires_grad_(False)
    return {"steps": steps, "last_loss": total}

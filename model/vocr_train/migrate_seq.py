"""Rewrites a bundle's seq.pt with fixed_range.py's code, keeping its int8 weights.

Two older forms are read: the current Int8Linear layout scripted with older
code (ATen's tanh, sigmoid, softmax and sums; now bitexact_math's), and the
layout before it, which ran `quantized::linear_dynamic` on an input with one
sentinel row appended, so oneDNN picked the fixed range's scale itself; the
server could only call it through the TorchScript interpreter, step by
step. The int8 weights, their scales and the biases carry over unchanged
(no fp32 checkpoint needed); only the activations' rounding changes, from
oneDNN's uint8 (127 levels where reduce_range was set) to symmetric int8
with 255 levels, the arithmetic fixed_range.py specifies.

    cd model && /usr/bin/python3 -m vocr_train.migrate_seq repository/vocr_line/1

The manifest's entry for seq.pt (bytes, SHA-256) and its quantization text
are updated; re-run the evaluation for its figures.
"""
import argparse
import copy
import json
import os

import torch
import torch.nn as nn

from predictor import MANIFEST
from vocr_train.export import QUANT_SEQ, SEQ_FILE, file_entry, write_manifest
from vocr_train.fixed_range import FixedRangeSeq, Int8GRUCell, Int8Linear, LockstepBiGRU


def _from_packed(packed, bound: float) -> Int8Linear:
    weight, bias = torch.ops.quantized.linear_unpack(packed)
    if weight.qscheme() != torch.per_tensor_affine or weight.q_zero_point() != 0:
        raise ValueError(f"expected a symmetric per-tensor int8 weight, got {weight.qscheme()}")
    return Int8Linear(weight.int_repr(), float(weight.q_scale()), bias, bound)


def _from_old_linear(old) -> Int8Linear:
    if not hasattr(old, "inner"):  # already an Int8Linear: copy its buffers
        linear = Int8Linear.__new__(Int8Linear)
        nn.Module.__init__(linear)
        linear.bound = float(old.bound)
        for name in ("weight", "bias", "input_multiplier", "output_scale"):
            linear.register_buffer(name, getattr(old, name).detach().clone())
        return linear
    return _from_packed(old.inner._packed_params._packed_params, old.bound)


def migrate(old) -> FixedRangeSeq:
    """A FixedRangeSeq with the int8 weights of a scripted module of the older layout."""
    seq = FixedRangeSeq.__new__(FixedRangeSeq)
    nn.Module.__init__(seq)
    encoder = LockstepBiGRU.__new__(LockstepBiGRU)
    nn.Module.__init__(encoder)
    encoder.hidden_size = old.encoder.hidden_size
    encoder.input_fwd = _from_old_linear(old.encoder.input_fwd)
    encoder.input_bwd = _from_old_linear(old.encoder.input_bwd)
    encoder.recurrent = _from_old_linear(old.encoder.recurrent)
    seq.encoder = encoder
    for name in ("init_hidden", "attn_memory", "attn_hidden", "attn_score", "out"):
        setattr(seq, name, _from_old_linear(getattr(old, name)))
    embedding = old.embed.weight.detach().clone()
    seq.embed = nn.Embedding(embedding.size(0), embedding.size(1))
    seq.embed.weight.data.copy_(embedding)
    cell = Int8GRUCell.__new__(Int8GRUCell)
    nn.Module.__init__(cell)
    if hasattr(old.cell, "recurrent"):
        cell.hidden_size = old.cell.hidden_size
        cell.input = _from_old_linear(old.cell.input)
        cell.recurrent = _from_old_linear(old.cell.recurrent)
        seq.cell = cell
        return seq.eval()
    cell.hidden_size = old.cell.hidden_sentinel.size(1)
    # The dynamic GRUCell keeps its biases inside the packed weights (its
    # bias_ih/bias_hh attributes are left from initialisation and unused).
    cell.input = _from_packed(old.cell.inner._packed_weight_ih, old.cell.input_bound)
    cell.recurrent = _from_packed(old.cell.inner._packed_weight_hh, 1.0)
    seq.cell = cell
    return seq.eval()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("bundle", help="a version directory holding manifest.json and seq.pt")
    args = parser.parse_args(argv)
    with open(os.path.join(args.bundle, MANIFEST), encoding="utf-8") as f:
        manifest = json.load(f)
    torch.backends.quantized.engine = manifest["quantization"]["engine"]
    path = os.path.join(args.bundle, SEQ_FILE)
    new = migrate(torch.jit.load(path))
    torch.jit.save(torch.jit.script(new), path + ".tmp")
    os.replace(path + ".tmp", path)
    entry = manifest["files"]["seq"]
    entry.update(file_entry(args.bundle, SEQ_FILE))
    manifest["quantization"]["seq"] = copy.deepcopy(QUANT_SEQ["dynamic"])
    write_manifest(args.bundle, manifest)
    print(f"{path}: {entry['bytes']} bytes, sha256 {entry['sha256']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

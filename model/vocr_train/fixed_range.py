"""The int8 sequence model: dynamic int8 weights, activations quantized at a range fixed at export.

The weights come from `quantize_dynamic` (int8, one scale per matrix), as
the VietOCR quantization guide does it. What `quantize_dynamic` leaves
open is the activations: its kernels pick each call's scale from the
minimum and maximum of the whole input, i.e. of every line in the batch, so
a line's rounding, and now and then its text, depends on its batch-mates
(measured on our first model: validation CER 4.23 % batched against 4.57 %
one line at a time).

Every activation entering an int8 product here has a range known at export
time: GRU states and everything averaged from them lie in [-1, 1], the
embedding table is fixed, and the CNN features are calibrated (and
clamped). So each product is fully specified, the same in this reference
and in the server's C++ kernels (server/core/int8_linear.cc), bit for bit:

    q   = round_half_even(clamp(x, -bound, bound) * input_multiplier)   int8 in [-127, 127]
    acc = q . W^T                                                        exact int32
    y   = float(acc) * output_scale + bias                               two float32 roundings

with `input_multiplier` = 127 / bound and `output_scale` = bound / 127 *
weight scale, both stored as float32. Here the product runs as a float32
matrix product of integer-valued tensors, which is exact: every partial sum
is an integer below 127 * 127 * 608 < 2^24. Each row's result depends on
that row alone, so batching cannot change a reading.

The encoder's `nn.GRU`s become a loop over time: the input projections of
all steps are one product per direction, and both directions' recurrent
projections are one block-diagonal product per step.

The float parts between the products (tanh, sigmoid, the attention's
softmax and every sum over columns) are bitexact_math's, fixed sequences of
float32 operations that the server's loops repeat bit for bit.
"""
import copy
from typing import Optional, Tuple

import torch
import torch.nn as nn
from torch.ao.quantization import quantize_dynamic

from vocr_train import bitexact_math
from vocr_train.model import SeqModel

INT8_MAX = 127


def dynamic_int8_weight(linear: nn.Linear) -> Tuple[torch.Tensor, float, Optional[torch.Tensor]]:
    """The int8 weight, its scale and the float bias that `quantize_dynamic` gives a Linear."""
    quantized = quantize_dynamic(nn.Sequential(copy.deepcopy(linear)), {nn.Linear}, dtype=torch.qint8)[0]
    weight, bias = quantized._packed_params._weight_bias()
    if weight.qscheme() != torch.per_tensor_affine or weight.q_zero_point() != 0:
        raise ValueError(f"expected a symmetric per-tensor int8 weight, got {weight.qscheme()}")
    return weight.int_repr(), float(weight.q_scale()), bias


class Int8Linear(nn.Module):
    """A Linear with an int8 weight and int8 activations at the fixed range [-bound, bound]."""

    def __init__(self, weight: torch.Tensor, weight_scale: float, bias: Optional[torch.Tensor], bound: float):
        super().__init__()
        if weight.dtype != torch.int8:
            raise ValueError("Int8Linear needs an int8 weight")
        self.bound = float(bound)
        self.register_buffer("weight", weight.clone())  # int8 [out, in]
        self.register_buffer("bias", (bias.detach().clone() if bias is not None
                                      else torch.zeros(weight.size(0))).float())
        self.register_buffer("input_multiplier", torch.tensor([INT8_MAX / self.bound], dtype=torch.float32))
        self.register_buffer("output_scale",
                             torch.tensor([self.bound / INT8_MAX * weight_scale], dtype=torch.float32))

    @classmethod
    def from_linear(cls, linear: nn.Linear, bound: float) -> "Int8Linear":
        weight, scale, bias = dynamic_int8_weight(linear)
        return cls(weight, scale, bias, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q = torch.round(x.clamp(-self.bound, self.bound) * self.input_multiplier)
        acc = torch.matmul(q, self.weight.to(torch.float32).t())
        return acc * self.output_scale + self.bias


def _linear(weight: torch.Tensor, bias: torch.Tensor) -> nn.Linear:
    linear = nn.Linear(weight.size(1), weight.size(0))
    linear.weight.data.copy_(weight.detach())
    linear.bias.data.copy_(bias.detach())
    return linear


class Int8GRUCell(nn.Module):
    """A GRUCell whose two products are Int8Linear; same gate equations as nn.GRUCell."""

    def __init__(self, cell: nn.GRUCell, input_bound: float):
        super().__init__()
        self.hidden_size = cell.hidden_size
        self.input = Int8Linear.from_linear(_linear(cell.weight_ih, cell.bias_ih), input_bound)
        self.recurrent = Int8Linear.from_linear(_linear(cell.weight_hh, cell.bias_hh), 1.0)  # states in [-1, 1]

    def forward(self, x: torch.Tensor, hidden: torch.Tensor) -> torch.Tensor:
        h = self.hidden_size
        gi, gh = self.input(x), self.recurrent(hidden)
        reset = bitexact_math.sigmoid(gi[:, :h] + gh[:, :h])
        update = bitexact_math.sigmoid(gi[:, h:2 * h] + gh[:, h:2 * h])
        candidate = bitexact_math.tanh(gi[:, 2 * h:] + reset * gh[:, 2 * h:])
        return (1.0 - update) * candidate + update * hidden


class LockstepBiGRU(nn.Module):
    """Two one-layer GRUs (batch first) stepped together over time, int8 with fixed ranges.

    `forward(fwd_input, bwd_input)` runs the first GRU over fwd_input and the
    second over bwd_input (already reversed by the caller), both [B, T, F],
    and returns both output sequences [B, T, H]. Same gate equations as nn.GRU.
    """

    def __init__(self, fwd: nn.GRU, bwd: nn.GRU, input_bound: float):
        super().__init__()
        h = fwd.hidden_size
        self.hidden_size = h
        self.input_fwd = Int8Linear.from_linear(_linear(fwd.weight_ih_l0, fwd.bias_ih_l0), input_bound)
        self.input_bwd = Int8Linear.from_linear(_linear(bwd.weight_ih_l0, bwd.bias_ih_l0), input_bound)
        weight = torch.zeros(6 * h, 2 * h)  # block diagonal: [fwd gates | bwd gates] from [h_fwd | h_bwd]
        weight[: 3 * h, :h] = fwd.weight_hh_l0.detach()
        weight[3 * h :, h:] = bwd.weight_hh_l0.detach()
        bias = torch.cat([fwd.bias_hh_l0.detach(), bwd.bias_hh_l0.detach()])
        self.recurrent = Int8Linear.from_linear(_linear(weight, bias), 1.0)

    def forward(self, fwd_input: torch.Tensor, bwd_input: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        b, t, h = fwd_input.size(0), fwd_input.size(1), self.hidden_size
        # [B, T, 2 directions, 3 gates, H]
        gates_in = torch.stack([self.input_fwd(fwd_input), self.input_bwd(bwd_input)], 2).view(b, t, 2, 3, h)
        state = torch.zeros(b, 2, h, dtype=fwd_input.dtype)
        outputs = []
        for step in range(t):
            x = gates_in[:, step]
            r_h = self.recurrent(state.reshape(b, 2 * h)).view(b, 2, 3, h)
            reset = bitexact_math.sigmoid(x[:, :, 0] + r_h[:, :, 0])
            update = bitexact_math.sigmoid(x[:, :, 1] + r_h[:, :, 1])
            candidate = bitexact_math.tanh(x[:, :, 2] + reset * r_h[:, :, 2])
            state = (1.0 - update) * candidate + update * state
            outputs.append(state)
        out = torch.stack(outputs, 1)  # [B, T, 2, H]
        return out[:, :, 0].contiguous(), out[:, :, 1].contiguous()


class FixedRangeSeq(SeqModel):
    """The int8 twin of a trained SeqModel: every GRU and Linear int8 with a fixed activation range.

    `feature_bound` is the range of the CNN features (a high percentile of their
    magnitude on training images, from the caller); features beyond it are clamped.
    The embedding stays fp32, as `quantize_dynamic` leaves it. The server reads
    these modules' buffers by name (server/core/seq_kernels.cc).
    """

    def __init__(self, seq: SeqModel, feature_bound: float):
        nn.Module.__init__(self)
        seq = copy.deepcopy(seq).eval()
        embed_bound = max(1.0, float(seq.embed.weight.detach().abs().max()))
        self.encoder = LockstepBiGRU(seq.enc_fwd, seq.enc_bwd, feature_bound)
        self.init_hidden = Int8Linear.from_linear(seq.init_hidden, 1.0)  # input: mean of GRU states
        self.attn_memory = Int8Linear.from_linear(seq.attn_memory, 1.0)  # GRU states
        self.attn_hidden = Int8Linear.from_linear(seq.attn_hidden, 1.0)  # GRU state
        self.attn_score = Int8Linear.from_linear(seq.attn_score, 1.0)  # tanh
        self.embed = seq.embed
        self.cell = Int8GRUCell(seq.cell, embed_bound)  # [embedding, context]
        self.out = Int8Linear.from_linear(seq.out, embed_bound)  # [state, context, embedding]
        self.length_head = Int8Linear.from_linear(seq.length_head, 1.0)  # GRU states
        self.blank = seq.blank

    def run_encoder(self, features: torch.Tensor, reversed_features: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        return self.encoder(features, reversed_features)

    # SeqModel's float functions, exactly specified (bitexact_math).

    def tanh(self, x: torch.Tensor) -> torch.Tensor:
        return bitexact_math.tanh(x)

    def sum_columns(self, x: torch.Tensor) -> torch.Tensor:
        return bitexact_math.sum_columns(x)

    def attend(self, scores: torch.Tensor, mask: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        # Softmax over the line's own columns; the others get exactly zero weight.
        top = scores.masked_fill(~mask, float("-inf")).max(1, keepdim=True)[0]
        exps = torch.where(mask, bitexact_math.exp(scores - top), torch.zeros_like(scores))
        weights = exps / bitexact_math.sum_columns(exps).unsqueeze(1)
        return bitexact_math.sum_columns(weights.unsqueeze(2) * memory)

"""Dynamic int8 layers whose activation range is fixed, so batch-mates cannot change a line's reading.

`quantize_dynamic` picks each call's activation scale from the minimum and
maximum of the whole input tensor, i.e. of every line in the batch. A line's
int8 rounding, and now and then its text, then depends on which other lines
share its batch: measured on our first model, validation CER was 4.23 %
batched against 4.57 % one line at a time.

Every activation entering a quantized layer here has a range known at export
time: GRU states and everything averaged from them lie in [-1, 1], the
embedding table is fixed, and the CNN features are calibrated (and clamped).
Each wrapper clamps its input to [-bound, bound] and appends one sentinel row
holding +bound and -bound, so the tensor's minimum and maximum, hence the
scale, are the same for every batch. The int8 products accumulate exactly in
int32, so each row's result depends on that row alone. The sentinel row is
dropped from the output; it costs one extra row per call.

The encoder's `nn.GRU`s are rebuilt as a loop over time (the quantized GRU
kernel quantizes every step's state with a batch-wide scale): the input
projections of all steps are one linear call, and both directions' recurrent
projections are one block-diagonal linear call per step.
"""
import copy
from typing import Tuple

import torch
import torch.nn as nn
from torch.ao.quantization import quantize_dynamic

from vocr_train.model import SeqModel


def _dynamic(module: nn.Module) -> nn.Module:
    return quantize_dynamic(module, {nn.Linear, nn.GRUCell}, dtype=torch.qint8)


def _sentinel(features: int, bound: float) -> torch.Tensor:
    """A [1, features] row whose min and max are -bound and +bound."""
    row = torch.zeros(1, features)
    row[0, 0], row[0, 1] = bound, -bound
    return row


def _with_sentinel(x: torch.Tensor, sentinel: torch.Tensor, bound: float) -> torch.Tensor:
    """[N, F] clamped to the bound, plus the sentinel row."""
    return torch.cat([x.clamp(-bound, bound), sentinel], 0)


class FixedRangeLinear(nn.Module):
    """A dynamic int8 Linear over [..., F] inputs with the activation range [-bound, bound]."""

    def __init__(self, linear: nn.Linear, bound: float):
        super().__init__()
        self.inner = _dynamic(nn.Sequential(linear))[0]
        self.bound = float(bound)
        self.register_buffer("sentinel", _sentinel(linear.in_features, self.bound))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2:  # the decoder's per-step calls: no reshaping
            return self.inner(_with_sentinel(x, self.sentinel, self.bound))[:-1]
        flat = x.reshape(-1, x.size(-1))
        out = self.inner(_with_sentinel(flat, self.sentinel, self.bound))[:-1]
        shape = list(x.shape[:-1])
        shape.append(out.size(1))
        return out.reshape(shape)


class FixedRangeGRUCell(nn.Module):
    """A dynamic int8 GRUCell; inputs in [-input_bound, input_bound], states in [-1, 1]."""

    def __init__(self, cell: nn.GRUCell, input_bound: float):
        super().__init__()
        self.inner = _dynamic(nn.Sequential(cell))[0]
        self.input_bound = float(input_bound)
        self.register_buffer("input_sentinel", _sentinel(cell.input_size, self.input_bound))
        self.register_buffer("hidden_sentinel", _sentinel(cell.hidden_size, 1.0))

    def forward(self, x: torch.Tensor, hidden: torch.Tensor) -> torch.Tensor:
        return self.inner(_with_sentinel(x, self.input_sentinel, self.input_bound),
                          _with_sentinel(hidden, self.hidden_sentinel, 1.0))[:-1]


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
        self.input_fwd = FixedRangeLinear(self._linear(fwd.weight_ih_l0, fwd.bias_ih_l0), input_bound)
        self.input_bwd = FixedRangeLinear(self._linear(bwd.weight_ih_l0, bwd.bias_ih_l0), input_bound)
        weight = torch.zeros(6 * h, 2 * h)  # block diagonal: [fwd gates | bwd gates] from [h_fwd | h_bwd]
        weight[: 3 * h, :h] = fwd.weight_hh_l0.detach()
        weight[3 * h :, h:] = bwd.weight_hh_l0.detach()
        bias = torch.cat([fwd.bias_hh_l0.detach(), bwd.bias_hh_l0.detach()])
        self.recurrent = FixedRangeLinear(self._linear(weight, bias), 1.0)

    @staticmethod
    def _linear(weight: torch.Tensor, bias: torch.Tensor) -> nn.Linear:
        linear = nn.Linear(weight.size(1), weight.size(0))
        linear.weight.data.copy_(weight.detach())
        linear.bias.data.copy_(bias.detach())
        return linear

    def forward(self, fwd_input: torch.Tensor, bwd_input: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        b, t, h = fwd_input.size(0), fwd_input.size(1), self.hidden_size
        # [B, T, 2 directions, 3 gates, H]
        gates_in = torch.stack([self.input_fwd(fwd_input), self.input_bwd(bwd_input)], 2).view(b, t, 2, 3, h)
        state = torch.zeros(b, 2, h, dtype=fwd_input.dtype)
        outputs = []
        for step in range(t):
            x = gates_in[:, step]
            r_h = self.recurrent(state.reshape(b, 2 * h)).view(b, 2, 3, h)
            reset = torch.sigmoid(x[:, :, 0] + r_h[:, :, 0])
            update = torch.sigmoid(x[:, :, 1] + r_h[:, :, 1])
            candidate = torch.tanh(x[:, :, 2] + reset * r_h[:, :, 2])
            state = (1.0 - update) * candidate + update * state
            outputs.append(state)
        out = torch.stack(outputs, 1)  # [B, T, 2, H]
        return out[:, :, 0].contiguous(), out[:, :, 1].contiguous()


class FixedRangeSeq(SeqModel):
    """The int8 twin of a trained SeqModel: every GRU and Linear dynamic int8 with a fixed range.

    `feature_bound` is the range of the CNN features (a high percentile of their
    magnitude on training images, from the caller); features beyond it are clamped.
    The embedding stays fp32, as `quantize_dynamic` leaves it.
    """

    def __init__(self, seq: SeqModel, feature_bound: float):
        nn.Module.__init__(self)
        seq = copy.deepcopy(seq).eval()
        embed_bound = max(1.0, float(seq.embed.weight.detach().abs().max()))
        self.encoder = LockstepBiGRU(seq.enc_fwd, seq.enc_bwd, feature_bound)
        self.init_hidden = FixedRangeLinear(seq.init_hidden, 1.0)  # input: mean of GRU states
        self.attn_memory = FixedRangeLinear(seq.attn_memory, 1.0)  # GRU states
        self.attn_hidden = FixedRangeLinear(seq.attn_hidden, 1.0)  # GRU state
        self.attn_score = FixedRangeLinear(seq.attn_score, 1.0)  # tanh
        self.embed = seq.embed
        self.cell = FixedRangeGRUCell(seq.cell, embed_bound)  # [embedding, context]
        self.out = FixedRangeLinear(seq.out, embed_bound)  # [state, context, embedding]

    def run_encoder(self, features: torch.Tensor, reversed_features: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        return self.encoder(features, reversed_features)

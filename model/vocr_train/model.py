"""The line recogniser: a VGG-style CNN and a GRU attention seq2seq.

The two halves are separate modules because they are quantized differently
and exported as separate TorchScript files:

* `Backbone` (CNN) is quantized statically (QAT or PTQ) to int8. It maps a
  normalised image [B, C, H, W] to a feature sequence [B, W / stride, F].
* `SeqModel` (bidirectional GRU encoder + Bahdanau-attention GRU decoder) is
  quantized dynamically. It exposes `encode` and `decode_step` so that the
  greedy decoding loop (early stop per line, deadlines, confidences) can live
  in the server's C++ code and in the reference predictor alike.

Padding never leaks into a line's reading: the encoder runs the backward
direction over each line reversed within its own length, and attention is
masked to the line's valid feature columns.
"""
from typing import List, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.ao.quantization import DeQuantStub, QuantStub


class ConvBNReLU(nn.Sequential):
    """3x3 conv, batch norm, ReLU: the unit `fuse_modules` turns into one op."""

    def __init__(self, cin: int, cout: int):
        super().__init__(
            nn.Conv2d(cin, cout, 3, padding=1, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=False),
        )


class Backbone(nn.Module):
    """VGG-style CNN whose pooling keeps horizontal resolution.

    `stages` is a list of (channels per conv, pool (h, w)). Heights are pooled
    down to 1 so each output column is one time step; widths are pooled by
    `stride` in total, so a W-pixel line gives W / stride steps.
    """

    def __init__(self, in_channels: int, height: int, stages: List, hidden: int):
        super().__init__()
        self.quant = QuantStub()
        layers: List[nn.Module] = []
        cin, h, stride = in_channels, height, 1
        for convs, (ph, pw) in stages:
            for cout in convs:
                layers.append(ConvBNReLU(cin, cout))
                cin = cout
            layers.append(nn.MaxPool2d((ph, pw), (ph, pw)))
            h, stride = h // ph, stride * pw
        if h != 1:
            raise ValueError(f"pooling leaves height {h}, expected 1; check stages for height {height}")
        self.body = nn.Sequential(*layers)
        self.project = nn.Conv2d(cin, hidden, 1)  # the 1x1 conv to the hidden size
        self.dequant = DeQuantStub()
        self.stride = stride

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = self.project(self.body(self.quant(images)))
        x = self.dequant(x)  # [B, F, 1, T]
        return x.squeeze(2).transpose(1, 2).contiguous()  # [B, T, F]

    def fuse(self, qat: bool) -> None:
        """Fuse every Conv+BN+ReLU in place (QAT keeps BN as a trainable part)."""
        fuse = torch.ao.quantization.fuse_modules_qat if qat else torch.ao.quantization.fuse_modules
        for module in self.body:
            if isinstance(module, ConvBNReLU):
                fuse(module, [["0", "1", "2"]], inplace=True)


def reverse_within_length(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Reverse each row's first `length` steps, leave the padding in place.

    The index map is its own inverse, so calling it twice restores `x`.
    """
    steps = torch.arange(x.size(1), device=x.device).unsqueeze(0)
    last = (lengths - 1).unsqueeze(1)
    index = torch.where(steps <= last, last - steps, steps)
    return x.gather(1, index.unsqueeze(2).expand(-1, -1, x.size(2)))


class SeqModel(nn.Module):
    """Bidirectional GRU encoder and a Bahdanau-attention GRU decoder."""

    def __init__(self, features: int, enc_hidden: int, dec_hidden: int, embed: int, attn: int, vocab_size: int,
                 blank: int = 0):
        super().__init__()
        # Two one-directional GRUs instead of bidirectional=True: the backward
        # one runs over each line reversed within its length, so padding on
        # the right never enters it, and both stay scriptable after
        # quantize_dynamic.
        self.enc_fwd = nn.GRU(features, enc_hidden, batch_first=True)
        self.enc_bwd = nn.GRU(features, enc_hidden, batch_first=True)
        memory = 2 * enc_hidden
        self.init_hidden = nn.Linear(memory, dec_hidden)
        self.attn_memory = nn.Linear(memory, attn, bias=False)
        self.attn_hidden = nn.Linear(dec_hidden, attn)
        self.attn_score = nn.Linear(attn, 1, bias=False)
        self.embed = nn.Embedding(vocab_size, embed)
        self.cell = nn.GRUCell(embed + memory, dec_hidden)
        self.out = nn.Linear(dec_hidden + memory + embed, vocab_size)
        # A CTC head over the encoder's columns (blank: the pad id). Its greedy
        # reading length bounds how long the attention decoder may go on, so
        # a decoder that loops or invents text on a short line stops near
        # the length the columns show (manifest decode.length_bound).
        self.length_head = nn.Linear(memory, vocab_size)
        self.blank = blank

    def run_encoder(self, features: torch.Tensor, reversed_features: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Both GRU directions; the int8 export replaces this (fixed_range.FixedRangeSeq)."""
        fwd, _ = self.enc_fwd(features)
        bwd, _ = self.enc_bwd(reversed_features)
        return fwd, bwd

    # The float functions that encode and decode_step use; the int8 export
    # replaces them with exactly specified ones (fixed_range.FixedRangeSeq).

    def tanh(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(x)

    def sum_columns(self, x: torch.Tensor) -> torch.Tensor:
        """x [B, T, ...] -> the sum over T."""
        return x.sum(1)

    def attend(self, scores: torch.Tensor, mask: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        """The context: memory [B, T, M] weighted by the softmax of scores [B, T] over the masked columns."""
        weights = torch.softmax(scores.masked_fill(~mask, -1e4), 1)
        return torch.bmm(weights.unsqueeze(1), memory).squeeze(1)

    @torch.jit.export
    def encode(self, features: torch.Tensor, lengths: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """features [B, T, F], lengths [B] (int64, 1..T) ->
        memory [B, T, 2E], keys [B, T, A], mask [B, T] (bool), hidden [B, D]."""
        steps = torch.arange(features.size(1), device=features.device).unsqueeze(0)
        mask = steps < lengths.unsqueeze(1)
        fwd, bwd = self.run_encoder(features, reverse_within_length(features, lengths))
        bwd = reverse_within_length(bwd, lengths)
        memory = torch.cat([fwd, bwd], 2) * mask.unsqueeze(2).to(fwd.dtype)
        keys = self.attn_memory(memory)
        mean = self.sum_columns(memory) / lengths.unsqueeze(1).to(memory.dtype)
        hidden = self.tanh(self.init_hidden(mean))
        return memory, keys, mask, hidden

    @torch.jit.export
    def greedy_lengths(self, memory: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """memory [B, T, M], mask [B, T] -> the length head's CTC greedy reading
        length [B] (int64): the columns whose best class is not blank and not
        the previous column's best (the first maximum wins a tie)."""
        best = self.length_head(memory).argmax(2)
        previous = torch.cat([torch.full_like(best[:, :1], self.blank), best[:, :-1]], 1)
        return ((best != self.blank) & (best != previous) & mask).sum(1)

    @torch.jit.export
    def decode_step(
        self, tokens: torch.Tensor, hidden: torch.Tensor, memory: torch.Tensor, keys: torch.Tensor, mask: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """One greedy step: previous tokens [B] and hidden [B, D] ->
        log-probabilities [B, V] of the next token and the new hidden."""
        emb = self.embed(tokens)
        scores = self.attn_score(self.tanh(keys + self.attn_hidden(hidden).unsqueeze(1))).squeeze(2)
        context = self.attend(scores, mask, memory)
        hidden = self.cell(torch.cat([emb, context], 1), hidden)
        logits = self.out(torch.cat([hidden, context, emb], 1))
        return F.log_softmax(logits, 1), hidden

    def forward(self, features: torch.Tensor, lengths: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: inputs [B, L] (sos + target) -> log-probs [B, L, V]."""
        memory, keys, mask, hidden = self.encode(features, lengths)
        return self.teacher_forced(memory, keys, mask, hidden, inputs)

    def teacher_forced(self, memory: torch.Tensor, keys: torch.Tensor, mask: torch.Tensor, hidden: torch.Tensor,
                       inputs: torch.Tensor) -> torch.Tensor:
        """The decoder over an encoding (encode's outputs) fed the true previous tokens."""
        outputs = []
        for t in range(inputs.size(1)):
            log_probs, hidden = self.decode_step(inputs[:, t], hidden, memory, keys, mask)
            outputs.append(log_probs)
        return torch.stack(outputs, 1)


class OcrModel(nn.Module):
    """Both halves together, as trained."""

    def __init__(self, cfg: dict, vocab_size: int, blank: int = 0):
        super().__init__()
        m = cfg["model"]
        self.backbone = Backbone(cfg["input"]["channels"], cfg["input"]["height"], m["cnn_stages"], m["features"])
        self.seq = SeqModel(m["features"], m["enc_hidden"], m["dec_hidden"], m["embed"], m["attn"], vocab_size, blank)

    def feature_lengths(self, widths: torch.Tensor) -> torch.Tensor:
        return torch.div(widths, self.backbone.stride, rounding_mode="floor").clamp(min=1)

    def forward(self, images: torch.Tensor, widths: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        return self.seq(self.backbone(images), self.feature_lengths(widths), inputs)


def load_weights(model: nn.Module, state: dict) -> None:
    """load_state_dict, also of weights saved before the length head existed:
    the head then keeps the values it has (it is fitted after training)."""
    state = dict(state)
    for key, value in model.state_dict().items():
        if "length_head." in key:
            state.setdefault(key, value)
    model.load_state_dict(state)


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def count_macs(model: OcrModel, cfg: dict, width: int, chars: int) -> dict:
    """Multiply-accumulates for one line of `width` pixels read as `chars` characters."""
    macs = {"cnn": 0}

    def conv_hook(mod, _inp, out):
        k = mod.kernel_size[0] * mod.kernel_size[1] * (mod.in_channels // mod.groups)
        macs["cnn"] += out.numel() * k

    hooks = [m.register_forward_hook(conv_hook) for m in model.backbone.modules() if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        feats = model.backbone(torch.zeros(1, cfg["input"]["channels"], cfg["input"]["height"], width))
    for h in hooks:
        h.remove()
    seq, t = model.seq, feats.size(1)

    def gru(m_in, m_hidden):
        return 3 * (m_in * m_hidden + m_hidden * m_hidden)

    e, d, a = seq.enc_fwd.hidden_size, seq.cell.hidden_size, seq.attn_memory.out_features
    macs["encoder"] = 2 * t * gru(seq.enc_fwd.input_size, e) + t * 2 * e * a + 2 * e * d
    per_step = (
        d * a + t * a  # attention query and scores
        + t * 2 * e  # context
        + gru(seq.cell.input_size, d)
        + seq.out.in_features * seq.out.out_features
    )
    macs["decoder"] = (chars + 1) * per_step
    macs["total"] = macs["cnn"] + macs["encoder"] + macs["decoder"]
    return macs

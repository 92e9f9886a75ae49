"""An fp32 model to fine-tune, rebuilt from a shipped int8 bundle.

The repository keeps bundles, not fp32 checkpoints (they are 10 MB each and
the bundle is what ships). To train a bundle further, e.g. on longer lines
or new kinds of text, this turns its int8 weights back into floats:

* CNN: each fused Conv+BN+ReLU of the converted QAT model holds an int8
  per-channel weight and a float bias (BN folded in). The weight is
  dequantized into the plain Conv2d, and the BatchNorm after it is set to
  add the bias and otherwise pass its input through: its running mean and
  variance are the conv output's own statistics on calibration images, its
  scale their standard deviation and its shift their mean plus the bias. In
  eval mode it is then exactly `conv(x) + bias`; in train mode, where each
  batch's statistics replace the running ones, nearly so. So training,
  `prepare_qat` and `convert` treat it as any trained model.
* Sequence model: each fixed_range.Int8Linear's weight times its scale
  (output_scale * input_multiplier) and its bias; the encoder's
  block-diagonal recurrent product splits back into the two GRUs; the
  embedding is float already.

The start is the int8 model's function up to the int8 rounding, which
fine-tuning smooths over.
"""
from typing import Iterable

import torch
import torch.nn as nn

from vocr_train.model import Backbone, ConvBNReLU, OcrModel, SeqModel


def _conv_weight_bias(fused) -> (torch.Tensor, torch.Tensor):
    weight, bias = torch.ops.quantized.conv2d_unpack(fused._packed_params)
    return weight.dequantize(), (bias.detach().clone() if bias is not None else torch.zeros(weight.size(0)))


def load_backbone(cnn, backbone: Backbone, calibration: Iterable[torch.Tensor]) -> None:
    """Dequantized weights of the scripted int8 `cnn` into `backbone`, BN set from calibration images."""
    units = [m for m in backbone.body if isinstance(m, ConvBNReLU)]
    fused = [getattr(cnn.body, name)._modules["0"] for name, m in backbone.body.named_children()
             if isinstance(m, ConvBNReLU)]
    biases = []
    with torch.no_grad():
        for unit, q in zip(units, fused):
            weight, bias = _conv_weight_bias(q)
            if weight.shape != unit[0].weight.shape:
                raise ValueError(f"bundle conv {tuple(weight.shape)} does not fit {tuple(unit[0].weight.shape)}")
            unit[0].weight.copy_(weight)
            biases.append(bias)
        weight, bias = _conv_weight_bias(cnn.project)
        backbone.project.weight.copy_(weight)
        backbone.project.bias.copy_(bias)
    # Each BN sees its conv's output; setting it to the identity (plus the
    # folded bias) before the next layer runs keeps every later layer's input
    # what the int8 model computes.
    sums = {}

    def record(bn):
        def hook(_module, inputs):
            y = inputs[0].detach()
            s = sums.setdefault(bn, [0.0, 0.0, 0])
            s[0] = s[0] + y.sum((0, 2, 3))
            s[1] = s[1] + (y * y).sum((0, 2, 3))
            s[2] += y.numel() // y.size(1)
        return hook

    images = list(calibration)
    for unit, bias in zip(units, biases):
        bn = unit[1]
        handle = bn.register_forward_pre_hook(record(bn))
        backbone.eval()
        with torch.no_grad():
            for batch in images:
                backbone(batch)
        handle.remove()
        total, squares, n = sums[bn]
        mean = total / n
        var = (squares / n - mean * mean).clamp(min=1e-6)
        with torch.no_grad():
            bn.running_mean.copy_(mean)
            bn.running_var.copy_(var)
            bn.weight.copy_(torch.sqrt(var + bn.eps))
            bn.bias.copy_(mean + bias)


def _float_weight(linear) -> torch.Tensor:
    return linear.weight.float() * (linear.output_scale * linear.input_multiplier)


def _copy_linear(int8, linear: nn.Linear) -> None:
    with torch.no_grad():
        linear.weight.copy_(_float_weight(int8))
        if linear.bias is not None:
            linear.bias.copy_(int8.bias)


def load_seq(int8_seq, seq: SeqModel) -> None:
    """Dequantized weights of a scripted fixed_range.FixedRangeSeq into an fp32 SeqModel."""
    enc = int8_seq.encoder
    h = seq.enc_fwd.hidden_size
    with torch.no_grad():
        for gru, part in ((seq.enc_fwd, enc.input_fwd), (seq.enc_bwd, enc.input_bwd)):
            gru.weight_ih_l0.copy_(_float_weight(part))
            gru.bias_ih_l0.copy_(part.bias)
        recurrent = _float_weight(enc.recurrent)  # [6h, 2h] block diagonal
        seq.enc_fwd.weight_hh_l0.copy_(recurrent[: 3 * h, :h])
        seq.enc_bwd.weight_hh_l0.copy_(recurrent[3 * h :, h:])
        seq.enc_fwd.bias_hh_l0.copy_(enc.recurrent.bias[: 3 * h])
        seq.enc_bwd.bias_hh_l0.copy_(enc.recurrent.bias[3 * h :])
        for name in ("init_hidden", "attn_memory", "attn_hidden", "attn_score", "out", "length_head"):
            if hasattr(int8_seq, name):  # bundles before the length head have none
                _copy_linear(getattr(int8_seq, name), getattr(seq, name))
        seq.cell.weight_ih.copy_(_float_weight(int8_seq.cell.input))
        seq.cell.bias_ih.copy_(int8_seq.cell.input.bias)
        seq.cell.weight_hh.copy_(_float_weight(int8_seq.cell.recurrent))
        seq.cell.bias_hh.copy_(int8_seq.cell.recurrent.bias)
        seq.embed.weight.copy_(int8_seq.embed.weight)


def load_model(model: OcrModel, bundle_dir: str, engine: str, calibration: Iterable[torch.Tensor]) -> None:
    """Both parts of a bundle (a version directory) into `model`, in place."""
    torch.backends.quantized.engine = engine
    load_backbone(torch.jit.load(f"{bundle_dir}/cnn.pt"), model.backbone, calibration)
    load_seq(torch.jit.load(f"{bundle_dir}/seq.pt"), model.seq)
    model.eval()

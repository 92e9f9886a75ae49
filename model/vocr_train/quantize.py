"""The quantization steps, each a plain function on a copy of the model.

CNN, static int8 (the four QAT steps of the PyTorch/VietOCR guide):
  1. train in fp32 (train.py);
  2. fuse Conv+BN+ReLU and insert fake-quant modules: `prepare_qat_backbone`;
  3. fine-tune with float gradients, then stop the observers and freeze the
     BN statistics for the last part: `qat_schedule`;
  4. `convert` to int8: `convert_backbone`.
PTQ, for comparison: fuse, observe calibration batches, convert.
Decoder side: `quantize_dynamic` on the GRUs and Linears (weights int8), with
activation ranges fixed at export so that a line's reading never depends on
its batch-mates (fixed_range.py).
"""
import copy
from typing import Callable, Iterable

import torch
import torch.nn as nn
from torch.ao.quantization import (convert, disable_observer, get_default_qat_qconfig, get_default_qconfig,
                                   prepare, prepare_qat)
from torch.nn.intrinsic.qat import freeze_bn_stats

from vocr_train.fixed_range import FixedRangeSeq
from vocr_train.model import Backbone, SeqModel


def use_engine(engine: str) -> None:
    if engine not in torch.backends.quantized.supported_engines:
        raise RuntimeError(f"quantized engine {engine!r} not in {torch.backends.quantized.supported_engines}")
    torch.backends.quantized.engine = engine


def ptq_backbone(backbone: Backbone, calibration: Iterable[torch.Tensor], engine: str) -> Backbone:
    """Post-training static quantization with a histogram observer on calibration images."""
    use_engine(engine)
    model = copy.deepcopy(backbone).eval()
    model.fuse(qat=False)
    model.qconfig = get_default_qconfig(engine)
    prepare(model, inplace=True)
    with torch.no_grad():
        for images in calibration:
            model(images)
    return convert(model, inplace=True)


def prepare_qat_backbone(backbone: Backbone, engine: str) -> None:
    """Fuse Conv+BN+ReLU for QAT and insert fake-quant modules, in place (model in train mode)."""
    use_engine(engine)
    backbone.train()
    backbone.fuse(qat=True)
    backbone.qconfig = get_default_qat_qconfig(engine)
    prepare_qat(backbone, inplace=True)


def qat_schedule(freeze_observers_at: int, freeze_bn_at: int) -> Callable[[nn.Module, int], None]:
    """Per-step hook: from these steps on, observers stop moving the scales and BN uses running stats.

    Both calls are idempotent, so applying them again after a resume is correct.
    """
    def on_step(model: nn.Module, step: int) -> None:
        if step >= freeze_observers_at:
            model.backbone.apply(disable_observer)
        if step >= freeze_bn_at:
            model.backbone.apply(freeze_bn_stats)
    return on_step


def convert_backbone(qat_backbone: Backbone) -> Backbone:
    """An int8 copy of a fake-quant backbone; the training copy keeps training."""
    model = copy.deepcopy(qat_backbone).cpu().eval()
    return convert(model, inplace=True)


def feature_bound(cnn: nn.Module, calibration: Iterable[torch.Tensor], quantile: float = 0.9995) -> float:
    """The `quantile` of the feature magnitudes `cnn` gives on calibration images.

    Not the maximum: the features are heavy-tailed. On the GPU-trained model
    the median magnitude is 0.21 and the maximum 25.5, so a range set by the
    maximum made the int8 step (0.22) as large as a typical feature and cost
    3 points of CER on hard lines. Clamping the rarest features costs less;
    0.9995 was the best of four quantiles tried (model/README.md).
    """
    with torch.no_grad():
        magnitudes = torch.cat([cnn(images).abs().flatten() for images in calibration])
    return float(magnitudes.kthvalue(max(1, int(quantile * magnitudes.numel()))).values)


def dynamic_seq(seq: SeqModel, features_bound: float) -> SeqModel:
    """Dynamic int8 GRUs, GRU cell and Linears with fixed activation ranges (see fixed_range.py);
    the embedding stays fp32."""
    return FixedRangeSeq(seq, features_bound)

"""A float model rebuilt from an int8 bundle computes what the bundle computes, and trains as usual."""
import numpy as np
import pytest
import torch

from vocr_train import data, from_bundle
from vocr_train.config import new_model
from vocr_train.contract import input_spec
from vocr_train.pipeline import load_config
from vocr_train.tiny_bundle import TINY_CONFIG, quantized_tiny_model


@pytest.fixture(scope="module")
def rebuilt():
    cfg = load_config(TINY_CONFIG)
    cnn, seq, _ = quantized_tiny_model(cfg)
    generator = torch.Generator().manual_seed(5)
    images = [torch.rand(3, 1, cfg["input"]["height"], 128, generator=generator) * 2 - 1 for _ in range(2)]
    model = new_model(cfg)
    torch.manual_seed(99)  # other random weights than the bundle's, so nothing passes by accident
    for p in model.parameters():
        p.data.normal_()
    from_bundle.load_backbone(cnn, model.backbone, images)
    from_bundle.load_seq(seq, model.seq)
    return cfg, cnn, seq, model.eval(), images


def test_the_cnn_gives_the_int8_cnns_features_up_to_its_rounding(rebuilt):
    _, cnn, _, model, images = rebuilt
    with torch.no_grad():
        int8, fp32 = cnn(images[0]), model.backbone(images[0])
    scale = float(int8.abs().max())
    assert float((int8 - fp32).abs().max()) < 0.1 * scale


def test_each_batch_norm_is_the_folded_bias_in_eval_and_nearly_so_in_training(rebuilt):
    _, _, _, model, images = rebuilt
    unit = model.backbone.body[0]
    with torch.no_grad():
        y = unit[0](images[0])
        expected = y + (unit[1].bias - unit[1].running_mean).view(1, -1, 1, 1)
        assert torch.allclose(unit[1](y), expected, atol=1e-5)
        unit[1].train()
        drift = (unit[1](y) - expected).abs().mean() / expected.abs().mean()
        unit[1].eval()
    assert float(drift) < 0.25


def test_the_sequence_model_gives_the_int8_ones_scores_up_to_its_rounding(rebuilt):
    _, cnn, seq, model, images = rebuilt
    with torch.no_grad():
        features = cnn(images[1])
        lengths = torch.full((features.size(0),), features.size(1), dtype=torch.int64)
        tokens = torch.ones(features.size(0), dtype=torch.int64)
        outputs = []
        for part in (seq, model.seq):
            memory, keys, mask, hidden = part.encode(features, lengths)
            outputs.append(part.decode_step(tokens, hidden, memory, keys, mask)[0])
    assert torch.allclose(outputs[0], outputs[1], atol=0.05 * float(outputs[0].abs().max()))


def test_lines_are_cut_to_fit_the_widest_input_and_keep_whole_words(cache_dir):
    cfg = load_config(TINY_CONFIG)
    spec = input_spec(cfg, 4)
    font = data.font_families(cache_dir, "train")[0][0]
    text = " ".join(["Nguyễn Văn A sống ở số 12 đường Lê Lợi"] * 4)
    gray, kept = data.fit_width(text, font, "clean", np.random.default_rng(1), spec)
    assert gray.shape[1] * spec["height"] / gray.shape[0] <= spec["max_width"]
    assert 0 < len(kept) < len(text) and text.startswith(kept) and text[len(kept)] == " "
    short = "Hà Nội"
    assert data.fit_width(short, font, "clean", np.random.default_rng(1), spec)[1] == short

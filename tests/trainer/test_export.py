"""Quantize and export a tiny model; the bundle reloads, verifies and reads like the eager model."""
import json
import os

import numpy as np
import pytest
import torch
import torch.nn.intrinsic.quantized

from predictor import BundleError, ImageError, Predictor, greedy_decode, load_manifest, pad_batch
from vocr_train.export import export_bundle
from vocr_train.fixed_range import dynamic_int8_weight
from vocr_train.pipeline import load_config
from vocr_train.tiny_bundle import TINY_CONFIG, make_tiny_bundle, quantized_tiny_model
from vocr_train.vocab import Vocab


@pytest.fixture(scope="module")
def cfg():
    return load_config(TINY_CONFIG)


@pytest.fixture(scope="module")
def quantized(cfg, tmp_path_factory):
    """fuse -> prepare_qat -> convert -> quantize_dynamic -> export, on a tiny untrained model."""
    cnn, seq, fp32 = quantized_tiny_model(cfg)
    bundle = str(tmp_path_factory.mktemp("repo") / "vocr_line" / "1")
    export_bundle(bundle, cfg, cnn, seq, fp32.backbone, fp32.seq, "qat", "dynamic", cfg["engine"])
    return cnn, seq, bundle, fp32


def lines(seed=0):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (h, w), dtype=np.uint8) for h, w in ((32, 90), (40, 300), (24, 200))]


def test_quantized_parts_are_int8(quantized):
    cnn, seq = quantized[:2]
    assert isinstance(cnn.body[0][0], torch.nn.intrinsic.quantized.ConvReLU2d)  # fused, converted
    assert isinstance(cnn.project, torch.nn.quantized.Conv2d)
    fp32 = quantized[3]
    for layer in (seq.encoder.recurrent, seq.cell.input, seq.cell.recurrent, seq.attn_score, seq.out):
        assert layer.weight.dtype == torch.int8
    # The weights are quantize_dynamic's, unchanged.
    weight, scale, _ = dynamic_int8_weight(fp32.seq.out)
    assert torch.equal(seq.out.weight, weight)
    assert float(seq.out.output_scale) == pytest.approx(seq.out.bound / 127 * scale, rel=1e-6)


def test_int8_linear_is_exact_integer_arithmetic(quantized):
    """What the server's oneDNN s8 x s8 -> s32 kernel computes, bit for bit: the float
    product of integer-valued tensors equals the int64 product."""
    layer = quantized[1].out
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(7, layer.weight.size(1), generator=gen) * layer.bound
    q = torch.round(x.clamp(-layer.bound, layer.bound) * layer.input_multiplier)
    assert q.abs().max() <= 127
    acc = (q.long() @ layer.weight.long().t()).float()
    with torch.no_grad():
        assert torch.equal(layer(x), acc * layer.output_scale + layer.bias)


def test_int8_seq_reads_a_line_the_same_whatever_its_batch(quantized):
    """Fixed activation ranges: a line's encoding and next-token scores are bit-identical
    alone and next to other lines (plain quantize_dynamic would rescale with the batch)."""
    seq = quantized[1]
    gen = torch.Generator().manual_seed(1)
    features = torch.randn(3, 20, seq.encoder.input_fwd.weight.size(1), generator=gen)
    features[2] *= 4.0  # a batch-mate with far larger activations
    lengths = torch.tensor([20, 13, 20])
    with torch.no_grad():
        batched = seq.encode(features, lengths)
        alone = seq.encode(features[1:2], lengths[1:2])
        for b, a in zip(batched, alone):
            assert torch.equal(b[1:2], a)
        tokens = torch.tensor([5, 7, 9])
        step_batched = seq.decode_step(tokens, *[batched[3]] + list(batched[:3]))
        step_alone = seq.decode_step(tokens[1:2], *[alone[3]] + list(alone[:3]))
        assert torch.equal(step_batched[0][1:2], step_alone[0])


def test_int8_encoder_follows_the_fp32_gru(quantized):
    seq, fp32 = quantized[1], quantized[3]
    gen = torch.Generator().manual_seed(2)
    bound = seq.encoder.input_fwd.bound  # calibrated on the CNN's features; beyond it inputs are clamped
    features = (torch.randn(2, 16, fp32.seq.enc_fwd.input_size, generator=gen) * bound / 2).clamp(-bound, bound)
    with torch.no_grad():
        want = fp32.seq.run_encoder(features, features.flip(1))
        got = seq.run_encoder(features, features.flip(1))
    for w, g in zip(want, got):
        assert (w - g).abs().max() < 0.02


def test_reloaded_bundle_reads_like_the_eager_model(quantized):
    cnn, seq, bundle = quantized[:3]
    predictor = Predictor(bundle)
    images = lines()
    batch, widths = pad_batch([predictor.prepare(im) for im in images], 0.0)
    with torch.no_grad():
        assert torch.equal(cnn(batch), predictor.cnn(batch))
    eager = greedy_decode(cnn, seq, batch, widths, predictor.manifest)
    scripted = predictor.recognize(images)
    assert [r.text for r in scripted] == [r.text for r in eager]
    for a, b in zip(scripted, eager):
        assert a.confidence == pytest.approx(b.confidence, abs=1e-6)
        assert np.allclose(a.char_confidences, b.char_confidences, atol=1e-6)


def test_manifest_describes_the_files(quantized):
    bundle = quantized[2]
    manifest = load_manifest(bundle)
    assert manifest["vocab"]["chars"] == Vocab().chars
    assert manifest["quantization"]["cnn"]["scheme"] == "QAT int8"
    assert manifest["quantization"]["seq"]["scheme"] == "dynamic int8"
    for part in ("cnn", "seq"):
        entry = manifest["files"][part]
        assert entry["bytes"] == os.path.getsize(os.path.join(bundle, entry["path"]))
        assert entry["fp32_reference_bytes"] > entry["bytes"]


def test_corrupted_file_is_detected(quantized, tmp_path):
    bundle = quantized[2]
    broken = tmp_path / "1"
    os.makedirs(broken)
    for name in os.listdir(bundle):
        data = open(os.path.join(bundle, name), "rb").read()
        if name == "seq.pt":  # same size, one byte flipped in the middle
            data = data[: len(data) // 2] + bytes([data[len(data) // 2] ^ 0xFF]) + data[len(data) // 2 + 1:]
        (broken / name).write_bytes(data)
    with pytest.raises(BundleError, match=r"seq\.pt: SHA-256"):
        Predictor(str(broken))
    (broken / "cnn.pt").write_bytes(b"short")
    with pytest.raises(BundleError, match=r"cnn\.pt: size 5 bytes"):
        load_manifest(str(broken))


def test_broken_manifest_is_named(tmp_path):
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(BundleError, match="manifest.json: not valid JSON"):
        Predictor(str(tmp_path))


def test_predictor_errors_on_empty_and_non_image_files(quantized, tmp_path):
    predictor = Predictor(quantized[2])
    empty, text = tmp_path / "empty.png", tmp_path / "notes.png"
    empty.write_bytes(b"")
    text.write_text("this is not an image")
    with pytest.raises(ImageError, match="empty.png: empty image: 0 bytes"):
        predictor.recognize_files([str(empty)])
    with pytest.raises(ImageError, match="notes.png: not a decodable image"):
        predictor.recognize_files([str(text)])
    with pytest.raises(ImageError, match="too small"):
        predictor.recognize([np.zeros((1, 1), np.uint8)])


def test_padding_stays_out_of_encoder_and_attention(quantized):
    """A line padded with garbage to a longer batch reads exactly as alone (fp32 sequence model)."""
    seq = quantized[3].seq
    torch.manual_seed(1)
    alone = torch.randn(1, 7, seq.enc_fwd.input_size)
    padded = torch.cat([alone, torch.randn(1, 5, seq.enc_fwd.input_size) * 10], 1)
    with torch.no_grad():
        m1, k1, mask1, h1 = seq.encode(alone, torch.tensor([7]))
        m2, k2, mask2, h2 = seq.encode(padded, torch.tensor([7]))
        assert torch.allclose(m1, m2[:, :7], atol=1e-5) and torch.allclose(h1, h2, atol=1e-5)
        assert not mask2[0, 7:].any()
        tokens = torch.tensor([Vocab().sos])
        lp1, _ = seq.decode_step(tokens, h1, m1, k1, mask1)
        lp2, _ = seq.decode_step(tokens, h2, m2, k2, mask2)
    assert torch.allclose(lp1, lp2, atol=1e-5)


def test_tiny_bundle_command_writes_the_shipped_format(tmp_path):
    bundle = make_tiny_bundle(str(tmp_path))
    manifest = json.load(open(os.path.join(bundle, "manifest.json")))
    assert bundle.endswith(os.path.join("vocr_line", "1"))
    assert manifest["format"] == "vocr-bundle/1"
    assert Predictor(str(tmp_path / "vocr_line")).recognize(lines())[0].text is not None

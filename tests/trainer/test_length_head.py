"""The length head: its CTC greedy length, its int8 twin, its fitting, and the bound the predictor applies."""
import json

import numpy as np
import pytest
import torch

from predictor import Predictor
from vocr_train.fixed_range import FixedRangeSeq
from vocr_train.length_head import ctc_targets, fit_length_head
from vocr_train.model import SeqModel
from vocr_train.tiny_bundle import make_tiny_bundle


def seq_reading(classes, vocab=6, memory=8):
    """A SeqModel whose length head reads column t as classes[t]: memory column t
    is the unit vector of feature classes[t], and the head is the identity."""
    seq = SeqModel(features=4, enc_hidden=memory // 2, dec_hidden=8, embed=4, attn=4, vocab_size=vocab, blank=0)
    with torch.no_grad():
        seq.length_head.weight.zero_()
        seq.length_head.bias.zero_()
        for c in range(vocab):
            seq.length_head.weight[c, c] = 1.0
    x = torch.zeros(1, len(classes), memory)
    for t, c in enumerate(classes):
        x[0, t, c] = 0.9
    return seq, x


def test_greedy_length_merges_repeats_drops_blanks_and_ignores_padding():
    # a a _ a b b _ | padding that reads c c c
    seq, memory = seq_reading([3, 3, 0, 3, 4, 4, 0, 5, 5, 5])
    mask = torch.arange(10).unsqueeze(0) < 7
    assert seq.greedy_lengths(memory, mask).tolist() == [3]
    assert seq.greedy_lengths(memory, torch.ones(1, 10, dtype=torch.bool)).tolist() == [4]


def test_the_int8_twin_reads_the_same_lengths():
    torch.manual_seed(0)
    seq = SeqModel(features=6, enc_hidden=8, dec_hidden=8, embed=4, attn=4, vocab_size=12).eval()
    int8 = torch.jit.script(FixedRangeSeq(seq, feature_bound=3.0))
    features = torch.randn(3, 20, 6)
    lengths = torch.tensor([20, 13, 5])
    memory, _, mask, _ = int8.encode(features, lengths)
    twice = torch.cat([memory, memory[:1]]), torch.cat([mask, mask[:1]])
    alone = int8.greedy_lengths(memory[:1], mask[:1])
    assert int8.greedy_lengths(*twice)[-1] == alone[0]  # batch-invariant
    assert ((0 <= alone) & (alone <= 20)).all()


def test_ctc_targets_keep_characters_only():
    targets = torch.tensor([[5, 6, 2, 0], [7, 2, 0, 0]])  # chars, eos (2), pad (0)
    flat, counts = ctc_targets(targets, first_char=3)
    assert flat.tolist() == [5, 6, 7] and counts.tolist() == [2, 1]


def test_fitting_lowers_the_ctc_loss_and_touches_nothing_else():
    from vocr_train.config import load_config, new_model
    from vocr_train.tiny_bundle import TINY_CONFIG
    cfg = load_config(TINY_CONFIG)
    model = new_model(cfg)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    generator = torch.Generator().manual_seed(1)
    images = torch.rand(4, 1, 32, 128, generator=generator) * 2 - 1
    targets = torch.tensor([[5, 6, 7, 2], [8, 8, 2, 0], [9, 2, 0, 0], [5, 9, 5, 2]])
    batch = {"images": images, "widths": torch.full((4,), 128), "targets": targets}
    losses = []
    fit_length_head(model, [batch] * 30, steps=30, lr=0.05, first_char=3,
                    log=lambda **r: losses.append(r["loss"]))
    assert losses[-1] < losses[0]
    changed = {k for k, v in model.state_dict().items() if not torch.equal(v, before[k])}
    assert changed == {"seq.length_head.weight", "seq.length_head.bias"}


@pytest.mark.parametrize("extra", [1, 3])
def test_the_predictor_stops_a_line_at_the_bound(tmp_path, extra):
    bundle = make_tiny_bundle(str(tmp_path))
    path = f"{bundle}/manifest.json"
    manifest = json.load(open(path, encoding="utf-8"))
    image = (np.random.default_rng(0).random((32, 400)) * 255).astype(np.uint8)
    del manifest["decode"]["length_bound"]
    json.dump(manifest, open(path, "w", encoding="utf-8"), ensure_ascii=False)
    unbounded = Predictor(bundle).recognize([image])[0].text
    assert len(unbounded) > extra  # the untrained tiny model reads on until the width bound
    manifest["decode"]["length_bound"] = {"per_char": 0.0, "extra": extra}  # whatever the head reads
    json.dump(manifest, open(path, "w", encoding="utf-8"), ensure_ascii=False)
    reading = Predictor(bundle).recognize([image])[0]
    assert reading.text == unbounded[:extra]
    assert len(reading.char_confidences) == extra


def test_joint_training_moves_the_head_and_the_encoder_together():
    from vocr_train.config import load_config, new_model
    from vocr_train.tiny_bundle import TINY_CONFIG
    from vocr_train.train import batch_loss
    cfg = load_config(TINY_CONFIG)
    cfg["train"]["length_weight"] = 0.3
    model = new_model(cfg).train()
    images = torch.rand(2, 1, 32, 128, generator=torch.Generator().manual_seed(2)) * 2 - 1
    targets = torch.tensor([[5, 6, 7, 2], [8, 9, 2, 0]])
    inputs = torch.tensor([[1, 5, 6, 7], [1, 8, 9, 2]])
    batch = {"widths": torch.full((2,), 128), "targets": targets, "inputs": inputs}
    joint = batch_loss(model, batch, images, 0.0, 0.3)
    joint.backward()
    assert model.seq.length_head.weight.grad is not None and model.seq.enc_fwd.weight_ih_l0.grad is not None
    model.zero_grad()
    decoder_only = batch_loss(model, batch, images, 0.0, 0.0)
    assert not torch.isclose(joint, decoder_only)
    assert new_model(load_config(TINY_CONFIG)).seq.length_head.weight.requires_grad is False  # not joint: frozen


def test_the_bound_sweep_reads_as_the_predictor_under_each_bound(tmp_path):
    """One unbounded pass, cut to each bound, equals the predictor reading with that bound."""
    from PIL import Image
    from vocr_train.bound_sweep import bounded, read_unbounded
    bundle = make_tiny_bundle(str(tmp_path / "bundle"))
    rng = np.random.default_rng(1)
    paths = []
    for i, width in enumerate((90, 400, 1400)):  # the widest is read in pieces
        paths.append(str(tmp_path / f"{i}.png"))
        Image.fromarray((rng.random((32, width)) * 255).astype(np.uint8)).save(paths[-1])
    lines = read_unbounded(bundle, paths)
    assert len(lines) == 3 and len(lines[2][0]) > 1
    path = f"{bundle}/manifest.json"
    manifest = json.load(open(path, encoding="utf-8"))
    for per_char, extra in ((0.0, 2), (1.0, 1), (0.5, 3)):
        manifest["decode"]["length_bound"] = {"per_char": per_char, "extra": extra}
        json.dump(manifest, open(path, "w", encoding="utf-8"), ensure_ascii=False)
        expected = [r.text for r in Predictor(bundle).recognize_files(paths)]
        assert [bounded(line, per_char, extra) for line in lines] == expected

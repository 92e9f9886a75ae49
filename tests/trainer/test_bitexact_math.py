"""The int8 sequence model's float functions: accurate, exactly specified, and blind to padding."""
import pytest
import torch

from vocr_train import bitexact_math
from vocr_train.pipeline import load_config
from vocr_train.tiny_bundle import TINY_CONFIG, quantized_tiny_model


def test_exp_sigmoid_and_tanh_are_close_to_the_true_functions():
    x = torch.linspace(-90, 90, 400_001)
    exact = x.double()
    inside = x.abs() < 86
    relative = ((bitexact_math.exp(x).double() - exact.exp()) / exact.exp()).abs()
    assert relative[inside].max() < 3e-7
    assert (bitexact_math.sigmoid(x).double() - exact.sigmoid()).abs().max() < 2e-7
    tanh = bitexact_math.tanh(x)
    assert (tanh.double() - exact.tanh()).abs().max() < 2e-7
    assert tanh.abs().max() <= 1.0  # GRU states stay in [-1, 1], the int8 range they are quantized at


def test_exp_builds_exact_powers_of_two():
    k = torch.arange(-124, 125)
    assert torch.equal(bitexact_math._power_of_two(k).double(), torch.tensor([2.0**int(i) for i in k]).double())


def test_scripted_functions_give_the_same_bits():
    x = torch.randn(1000) * 20
    for fn in (bitexact_math.exp, bitexact_math.sigmoid, bitexact_math.tanh):
        assert torch.equal(torch.jit.script(fn)(x), fn(x))


@pytest.mark.parametrize("n", [1, 2, 5, 8, 13])
def test_column_sums_ignore_zero_padding_on_the_right(n):
    x = torch.randn(3, n, 4)
    padded = torch.cat([x, torch.zeros(3, 19 - n, 4)], 1)
    assert torch.equal(bitexact_math.sum_columns(x), bitexact_math.sum_columns(padded))
    assert torch.allclose(bitexact_math.sum_columns(x), x.sum(1), atol=1e-5)


def test_a_line_decodes_the_same_in_a_wider_batch():
    """A narrower line padded to its batch-mates' width: same encoding on its own
    columns, same next-token scores, bit for bit."""
    _, seq, _ = quantized_tiny_model(load_config(TINY_CONFIG))
    gen = torch.Generator().manual_seed(4)
    features = torch.randn(2, 21, seq.encoder.input_fwd.weight.size(1), generator=gen)
    features[0, 13:] = 0.0
    lengths = torch.tensor([13, 21])
    with torch.no_grad():
        wide = seq.encode(features, lengths)
        alone = seq.encode(features[:1, :13], lengths[:1])
        assert torch.equal(wide[0][:1, :13], alone[0])  # memory
        assert torch.equal(wide[3][:1], alone[3])  # initial hidden state
        tokens = torch.tensor([5, 9])
        step_wide = seq.decode_step(tokens, wide[3], wide[0], wide[1], wide[2])
        step_alone = seq.decode_step(tokens[:1], alone[3], alone[0], alone[1], alone[2])
    assert torch.equal(step_wide[0][:1], step_alone[0])
    assert torch.equal(step_wide[1][:1], step_alone[1])

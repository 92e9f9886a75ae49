"""exp, sigmoid, tanh and sums specified as sequences of float32 operations, for the int8 sequence model.

ATen's `tanh`, `sigmoid`, `exp` and `sum` give results that depend on
the kernel that ran: a vectorized body and a scalar tail differ in the last
bit, and a sum's rounding depends on its blocking. A last-bit difference
before an int8 rounding flips that rounding now and then, so a C++ server
that wants to read exactly as this reference had to call the same ATen
kernels on tensors of the same shapes, a dozen calls per encoder column and
per decoder step.

Here each function is a fixed sequence of IEEE float32 additions,
multiplications, divisions, comparisons and exact bit operations, each
rounded once (no fused multiply-add). Any implementation that performs the
same operations in the same order gets the same bits, element by element,
whatever the vector width: the server's loops in server/core/seq_math.h do.

- `exp(x)`: x clamped to [-86, 86]; k = round(x * log2(e)); r = x - k * ln2
  in two parts (Cody and Waite); a degree-6 Taylor polynomial in Horner form;
  times 2^k built from its exponent bits. Relative error below 3e-7.
- `sigmoid(x)` = 1 / (1 + exp(-x)); `tanh(x)` = 2 * sigmoid(2x) - 1
  (absolute error below 2e-7, and |tanh| <= 1 exactly).
- `sum_columns(x)`: the sum over dimension 1 as a pairwise tree of adjacent
  elements, dimension 1 padded with zeros to a power of two. Zeros added on
  the right (a narrower line in a wider batch) leave every line's sum
  unchanged, bit for bit, so batching cannot change a reading.
"""
import torch

# The constants are literals inside the functions (TorchScript compiles no
# module globals); the server's copies in server/core/seq_math.h round the
# same decimal doubles to float32:
#   log2(e) 1.4426950408889634; ln 2 = 0.693145751953125 (16 bits, so k * it is
#   exact for |k| <= 126) + 1.4286068202862268e-06; the clamp at 86 keeps |k| <= 124,
#   a normal exponent (2^-126 < exp(-86), exp(86) < float32 max); 1/n! for n = 2..6.


def _f32(value: float) -> torch.Tensor:
    return torch.tensor(value, dtype=torch.float32)


def exp(x: torch.Tensor) -> torch.Tensor:
    x = x.clamp(-86.0, 86.0)
    k = torch.round(x * _f32(1.4426950408889634))
    r = (x - k * _f32(0.693145751953125)) - k * _f32(1.4286068202862268e-06)
    p = _f32(1.0 / 120.0) + r * _f32(1.0 / 720.0)
    p = _f32(1.0 / 24.0) + r * p
    p = _f32(1.0 / 6.0) + r * p
    p = _f32(0.5) + r * p
    p = _f32(1.0) + r * p
    p = _f32(1.0) + r * p
    return p * _power_of_two(k.to(torch.int64))


def _power_of_two(k: torch.Tensor) -> torch.Tensor:
    """2^k, exactly, for integers |k| <= 124 (TorchScript cannot view int bits as float)."""
    low = torch.div(k, 2, rounding_mode="floor")
    scale = torch.ones(k.shape, dtype=torch.float32)
    for half in (low, k - low):  # each within [-62, 62]: 1 << 62 fits an int64
        magnitude = torch.bitwise_left_shift(torch.ones_like(half), half.abs()).to(torch.float32)
        scale = scale * torch.where(half < 0, _f32(1.0) / magnitude, magnitude)
    return scale


def sigmoid(x: torch.Tensor) -> torch.Tensor:
    return _f32(1.0) / (_f32(1.0) + exp(-x))


def tanh(x: torch.Tensor) -> torch.Tensor:
    return _f32(2.0) * sigmoid(x * _f32(2.0)) - _f32(1.0)


def sum_columns(x: torch.Tensor) -> torch.Tensor:
    """x [B, T, ...] -> [B, ...]: the pairwise tree sum over T described above."""
    n = x.size(1)
    width = 1
    while width < n:
        width *= 2
    if width > n:
        shape = list(x.shape)
        shape[1] = width - n
        x = torch.cat([x, torch.zeros(shape, dtype=x.dtype)], 1)
    while x.size(1) > 1:
        x = x[:, 0::2] + x[:, 1::2]
    return x.squeeze(1)

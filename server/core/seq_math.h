// The float parts of the int8 sequence model as plain loops: exp, sigmoid,
// tanh and sums over columns exactly as model/vocr_train/bitexact_math.py
// specifies them, one IEEE float32 operation at a time in the same order
// (the core is built with -ffp-contract=off: no fused multiply-add), so every
// element has the reference's bits whatever vector width the compiler uses.
// The array functions are compiled for AVX-512, AVX2 and baseline x86-64 and
// picked at load (the results are the same on each).
#ifndef VOCR_SERVER_CORE_SEQ_MATH_H_
#define VOCR_SERVER_CORE_SEQ_MATH_H_

#include <algorithm>
#include <cstdint>
#include <cstring>

// Compiles a function for each of these targets; the loader picks the best
// the CPU has (an ifunc). The loops use only operations that round the same
// at every vector width.
#define VOCR_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

namespace vocr::seq_math {

// The reference's float32 constants: the same decimal doubles rounded once.
constexpr float kLog2e = static_cast<float>(1.4426950408889634);
constexpr float kLn2Hi = static_cast<float>(0.693145751953125);
constexpr float kLn2Lo = static_cast<float>(1.4286068202862268e-06);
constexpr float kExpLimit = 86.0f;

// torch.round (half to even) for |x| < 2^22: adding 1.5 * 2^23 leaves no
// fraction bits, so the sum is rounded to an integer in the current (nearest
// even) mode. Unlike std::nearbyint it vectorizes on every x86-64.
inline float RoundHalfEven(float x) {
  constexpr float kShift = 12582912.0f;
  return (x + kShift) - kShift;
}

inline float Exp(float x) {
  x = std::min(std::max(x, -kExpLimit), kExpLimit);
  const float k = RoundHalfEven(x * kLog2e);
  const float r = (x - k * kLn2Hi) - k * kLn2Lo;
  float p = static_cast<float>(1.0 / 120.0) + r * static_cast<float>(1.0 / 720.0);
  p = static_cast<float>(1.0 / 24.0) + r * p;
  p = static_cast<float>(1.0 / 6.0) + r * p;
  p = 0.5f + r * p;
  p = 1.0f + r * p;
  p = 1.0f + r * p;
  const int32_t bits = (static_cast<int32_t>(k) + 127) << 23;  // 2^k, |k| <= 124
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

inline float Sigmoid(float x) { return 1.0f / (1.0f + Exp(-x)); }
inline float Tanh(float x) { return 2.0f * Sigmoid(x * 2.0f) - 1.0f; }

// The int8 products' two element-wise halves (fixed_range.Int8Linear):
// q[i] = round(clamp(x[i], -bound, bound) * multiplier), and
// y[r][j] = float(acc[r][j]) * scale + bias[j] for `rows` rows of `n`.
// The float overloads hold the same integers as floats, for products that
// run in float arithmetic (exact below 2^24; see int8_linear.h).
void Quantize(const float* x, int64_t n, float bound, float multiplier, int8_t* q);
void Quantize(const float* x, int64_t n, float bound, float multiplier, float* q);
void Dequantize(const int32_t* acc, int64_t rows, int64_t n, float scale, const float* bias, float* y);
void Dequantize(const float* acc, int64_t rows, int64_t n, float scale, const float* bias, float* y);

// x[i] = Tanh(x[i]) for i < n.
void TanhInPlace(float* x, int64_t n);

// nn.GRU's update for one state of `h` values: x and r are the input and
// recurrent projections, [3][h] as (reset, update, candidate).
void GruUpdate(const float* x, const float* r, const float* state, float* out, int64_t h);

// Additive attention scores of one line: for each of `columns` keys [a],
// score = attn_score(Tanh(key + query)), the int8 product of
// fixed_range.Int8Linear with one output: q = round(clamp(e, -bound, bound) * multiplier),
// float(q . weight) * scale + bias.
void AttentionScores(const float* keys, const float* query, int64_t columns, int64_t a, const int8_t* weight,
                     float bound, float multiplier, float scale, float bias, float* scores);

// Softmax of n scores in place, as FixedRangeSeq.decode_step: the largest
// subtracted, Exp, divided by the pairwise tree sum.
void Softmax(float* scores, int64_t n);

// out[d] = sum over t < n of weights[t] * rows[t][d] (weights null: 1), as
// bitexact_math.sum_columns sums: a pairwise tree of adjacent columns, zero
// padded to a power of two.
void SumColumns(const float* weights, const float* rows, int64_t n, int64_t d, float* out);

// The greedy choice from n logits: the first index of the largest, and its
// log-probability (log-softmax; within 1e-5 of ATen's, which the reference
// predictor uses: confidences are compared to 1e-4, tokens exactly).
void BestToken(const float* logits, int64_t n, int64_t* best, float* log_prob);

}  // namespace vocr::seq_math

#endif  // VOCR_SERVER_CORE_SEQ_MATH_H_

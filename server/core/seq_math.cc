#include "server/core/seq_math.h"

#include <cmath>
#include <limits>
#include <vector>

namespace vocr::seq_math {
namespace {

// fixed_range.Int8Linear's input rounding of one value (an integer in [-127, 127]).
inline float QuantizeOne(float x, float bound, float multiplier) {
  return RoundHalfEven(std::min(std::max(x, -bound), bound) * multiplier);
}

// The pairwise sum of `n` rows of d values (in place; the sum ends in row 0),
// as if zero rows padded them to a power of two: a row without a partner
// adds a zero row, which only turns -0 into +0, as the reference's does.
VOCR_VECTOR_CLONES void TreeSum(float* rows, int64_t n, int64_t d) {
  for (; n > 1; n = (n + 1) / 2) {
    for (int64_t i = 0; i < n / 2; ++i) {
      float* to = rows + i * d;
      const float* left = rows + 2 * i * d;
      const float* right = left + d;
      for (int64_t j = 0; j < d; ++j) to[j] = left[j] + right[j];
    }
    if (n % 2 == 1) {
      float* to = rows + (n / 2) * d;
      const float* left = rows + (n - 1) * d;
      for (int64_t j = 0; j < d; ++j) to[j] = left[j] + 0.0f;
    }
  }
}

}  // namespace

VOCR_VECTOR_CLONES void TanhInPlace(float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = Tanh(x[i]);
}

VOCR_VECTOR_CLONES void GruUpdate(const float* x, const float* r, const float* state, float* out, int64_t h) {
  for (int64_t j = 0; j < h; ++j) {
    const float reset = Sigmoid(x[j] + r[j]);
    const float update = Sigmoid(x[h + j] + r[h + j]);
    const float candidate = Tanh(x[2 * h + j] + reset * r[2 * h + j]);
    out[j] = (1.0f - update) * candidate + update * state[j];
  }
}

VOCR_VECTOR_CLONES void AttentionScores(const float* keys, const float* query, int64_t columns, int64_t a,
                                        const int8_t* weight, float bound, float multiplier, float scale,
                                        float bias, float* scores) {
  thread_local std::vector<float> energy;
  energy.resize(static_cast<size_t>(a));
  float* e = energy.data();
  for (int64_t t = 0; t < columns; ++t) {
    const float* key = keys + t * a;
    for (int64_t i = 0; i < a; ++i) e[i] = Tanh(key[i] + query[i]);
    // Every partial sum is an integer below 127 * 127 * a: exact in int32.
    int32_t acc = 0;
    for (int64_t i = 0; i < a; ++i) {
      const float q = QuantizeOne(e[i], bound, multiplier);
      acc += static_cast<int32_t>(q) * static_cast<int32_t>(weight[i]);
    }
    scores[t] = static_cast<float>(acc) * scale + bias;
  }
}

void Softmax(float* scores, int64_t n) {
  float top = -std::numeric_limits<float>::infinity();
  for (int64_t t = 0; t < n; ++t) top = std::max(top, scores[t]);
  for (int64_t t = 0; t < n; ++t) scores[t] = Exp(scores[t] - top);
  float total;
  SumColumns(nullptr, scores, n, 1, &total);
  for (int64_t t = 0; t < n; ++t) scores[t] = scores[t] / total;
}

VOCR_VECTOR_CLONES void SumColumns(const float* weights, const float* rows, int64_t n, int64_t d,
                                   float* out) {
  if (n == 1) {  // the tree of one column is the column (times its weight)
    for (int64_t j = 0; j < d; ++j) out[j] = weights ? weights[0] * rows[j] : rows[j];
    return;
  }
  // The tree's first level (adjacent pairs of weighted columns) is written
  // straight into the scratch rows; the rest is TreeSum's.
  thread_local std::vector<float> scratch;
  const int64_t pairs = (n + 1) / 2;
  scratch.resize(static_cast<size_t>(pairs * d));
  float* s = scratch.data();
  for (int64_t i = 0; i < n / 2; ++i) {
    const float* left = rows + 2 * i * d;
    const float* right = left + d;
    float* to = s + i * d;
    if (weights == nullptr) {
      for (int64_t j = 0; j < d; ++j) to[j] = left[j] + right[j];
    } else {
      const float wl = weights[2 * i], wr = weights[2 * i + 1];
      for (int64_t j = 0; j < d; ++j) to[j] = wl * left[j] + wr * right[j];
    }
  }
  if (n % 2 == 1) {  // the last column's partner is a zero column
    const float* left = rows + (n - 1) * d;
    const float wl = weights ? weights[n - 1] : 1.0f;  // 1 * x is x, bit for bit
    float* to = s + (n / 2) * d;
    for (int64_t j = 0; j < d; ++j) to[j] = wl * left[j] + 0.0f;
  }
  TreeSum(s, pairs, d);
  std::copy(s, s + d, out);
}

VOCR_VECTOR_CLONES void Quantize(const float* x, int64_t n, float bound, float multiplier, int8_t* q) {
  for (int64_t i = 0; i < n; ++i) {
    q[i] = static_cast<int8_t>(static_cast<int32_t>(QuantizeOne(x[i], bound, multiplier)));
  }
}

VOCR_VECTOR_CLONES void Quantize(const float* x, int64_t n, float bound, float multiplier, float* q) {
  for (int64_t i = 0; i < n; ++i) q[i] = QuantizeOne(x[i], bound, multiplier);
}

VOCR_VECTOR_CLONES void Dequantize(const int32_t* acc, int64_t rows, int64_t n, float scale,
                                   const float* bias, float* y) {
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t j = 0; j < n; ++j) {
      // Two roundings, as in the reference: no fused multiply-add here.
      const float scaled = static_cast<float>(acc[r * n + j]) * scale;
      y[r * n + j] = scaled + bias[j];
    }
  }
}

VOCR_VECTOR_CLONES void Dequantize(const float* acc, int64_t rows, int64_t n, float scale, const float* bias,
                                   float* y) {
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t j = 0; j < n; ++j) {
      const float scaled = acc[r * n + j] * scale;  // acc holds an integer: float(acc) as above
      y[r * n + j] = scaled + bias[j];
    }
  }
}

namespace {

// The sum of exp(x[i] - top) over n values, in float lanes: each term is in
// (0, 1] and n is the vocabulary (a few hundred), so the sum is good to about
// n ulps of 1, 1e-5 relative at worst, and its log to 1e-5 absolute.
VOCR_VECTOR_CLONES float SumExpBelow(const float* x, int64_t n, float top) {
  float total = 0.0f;
  // The order of the additions does not matter at this precision: lanes may split it.
#pragma omp simd reduction(+ : total)
  for (int64_t i = 0; i < n; ++i) total += Exp(x[i] - top);
  return total;
}

}  // namespace

void BestToken(const float* logits, int64_t n, int64_t* best, float* log_prob) {
  int64_t top = 0;
  for (int64_t i = 1; i < n; ++i) {
    if (logits[i] > logits[top]) top = i;
  }
  *best = top;
  *log_prob = -std::log(SumExpBelow(logits, n, logits[top]));
}

}  // namespace vocr::seq_math

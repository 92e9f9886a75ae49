// The sequence model's float functions give the reference's bits
// (model/vocr_train/bitexact_math.py) and ignore padding the way it does.
#include "server/core/seq_math.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

namespace vocr::seq_math {
namespace {

uint32_t Bits(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return bits;
}

const std::vector<float> kInputs = {-100.0f, -20.5f,  -3.1f, -0.75f, -1e-3f, 0.0f,
                                    1e-4f,   0.3333f, 1.5f,  7.25f,  42.0f,  100.0f};

// Printed by bitexact_math.exp, .sigmoid and .tanh for kInputs as float32 bits.
TEST(SeqMathTest, GivesTheReferencesBits) {
  const std::vector<uint32_t> exp = {0x01739362, 0x30abd1d8, 0x3d388586, 0x3ef1da07, 0x3f7fbe7f, 0x3f800000,
                                     0x3f800347, 0x3fb2a1e6, 0x408f69ff, 0x44b0035a, 0x5dc1192b, 0x7d86876d};
  const std::vector<uint32_t> sigmoid = {0x01739363, 0x30abd1d8, 0x3d30913d, 0x3ea442b0,
                                         0x3effdf3c, 0x3f000000, 0x3f0001a4, 0x3f1522c9,
                                         0x3f514c8f, 0x3f7fd17e, 0x3f800000, 0x3f800000};
  const std::vector<uint32_t> tanh = {0xbf800000, 0xbf800000, 0xbf7ef68a, 0xbf22991f, 0xba831200, 0x00000000,
                                      0x38d1c000, 0x3ea49968, 0x3f67b7cc, 0x3f7ffff0, 0x3f800000, 0x3f800000};
  std::vector<float> in_place = kInputs;
  TanhInPlace(in_place.data(), static_cast<int64_t>(in_place.size()));
  for (size_t i = 0; i < kInputs.size(); ++i) {
    SCOPED_TRACE(kInputs[i]);
    EXPECT_EQ(Bits(Exp(kInputs[i])), exp[i]);
    EXPECT_EQ(Bits(Sigmoid(kInputs[i])), sigmoid[i]);
    EXPECT_EQ(Bits(Tanh(kInputs[i])), tanh[i]);
    EXPECT_EQ(Bits(in_place[i]), tanh[i]);  // the vectorized loop, element for element
  }
}

TEST(SeqMathTest, RoundsHalfToEvenAsTorchRound) {
  EXPECT_EQ(RoundHalfEven(2.5f), 2.0f);
  EXPECT_EQ(RoundHalfEven(3.5f), 4.0f);
  EXPECT_EQ(RoundHalfEven(-2.5f), -2.0f);
  EXPECT_EQ(RoundHalfEven(-126.7f), -127.0f);
  EXPECT_EQ(RoundHalfEven(0.49999997f), 0.0f);
}

TEST(SeqMathTest, ColumnSumsIgnoreZeroColumnsOnTheRight) {
  std::mt19937 gen(3);
  std::normal_distribution<float> normal;
  const int64_t d = 5;
  for (int64_t n : {1, 2, 5, 8, 13}) {
    std::vector<float> rows(19 * d, 0.0f), weights(19, 0.0f);
    for (int64_t i = 0; i < n * d; ++i) rows[i] = normal(gen);
    for (int64_t t = 0; t < n; ++t) weights[t] = normal(gen);
    std::vector<float> own(d), padded(d), weighted(d), weighted_padded(d);
    SumColumns(nullptr, rows.data(), n, d, own.data());
    SumColumns(nullptr, rows.data(), 19, d, padded.data());
    SumColumns(weights.data(), rows.data(), n, d, weighted.data());
    SumColumns(weights.data(), rows.data(), 19, d, weighted_padded.data());
    for (int64_t j = 0; j < d; ++j) {
      EXPECT_EQ(Bits(own[j]), Bits(padded[j])) << "n " << n;
      EXPECT_EQ(Bits(weighted[j]), Bits(weighted_padded[j])) << "n " << n;
      float plain = 0;
      for (int64_t t = 0; t < n; ++t) plain += rows[t * d + j];
      EXPECT_NEAR(own[j], plain, 1e-5);
    }
  }
}

TEST(SeqMathTest, SoftmaxSumsToOne) {
  std::vector<float> scores = {3.0f, -1.0f, 0.5f, 12.0f, -40.0f};
  Softmax(scores.data(), static_cast<int64_t>(scores.size()));
  double total = 0;
  for (float p : scores) {
    EXPECT_GE(p, 0.0f);
    total += p;
  }
  EXPECT_NEAR(total, 1.0, 1e-6);
  EXPECT_GT(scores[3], 0.99f);
}

}  // namespace
}  // namespace vocr::seq_math

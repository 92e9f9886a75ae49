// Int8Linear on the shipped bundle's layers: the same product from many
// threads at once as from one (workers share a bundle, and oneDNN kernels with
// a scratchpad corrupt each other's results if they share it), and the same
// at every row count whichever primitive serves it, and exactly the integer
// product the reference specifies, even at the inputs that saturate 16-bit
// pair sums.
#include "server/core/int8_linear.h"

#include <gtest/gtest.h>
#include <torch/script.h>

#include <filesystem>
#include <random>
#include <thread>
#include <vector>

#include "server/core/onednn_isa.h"
#include "server/core/seq_math.h"

namespace vocr {
namespace {

const char kShippedSeq[] = VOCR_SOURCE_DIR "/model/repository/vocr_line/6/seq.pt";

class Int8LinearTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kShippedSeq)) GTEST_SKIP() << "no shipped bundle at " << kShippedSeq;
    CapOneDnnIsa();
    torch::jit::Module seq = torch::jit::load(kShippedSeq);
    torch::jit::Module m = seq;
    std::string path = GetParam();
    for (size_t start = 0; start <= path.size();) {
      const size_t dot = std::min(path.find('.', start), path.size());
      m = m.attr(path.substr(start, dot - start)).toModule();
      start = dot + 1;
    }
    auto linear = Int8Linear::FromModule(m, path);
    ASSERT_TRUE(linear.ok()) << linear.status();
    linear_ = std::move(*linear);
  }

  std::vector<float> Input(int64_t rows, unsigned seed) const {
    std::mt19937 gen(seed);
    std::normal_distribution<float> normal(0.0f, 0.5f);
    std::vector<float> x(static_cast<size_t>(rows * linear_.in()));
    for (float& v : x) v = normal(gen);
    return x;
  }

  std::vector<float> Product(const std::vector<float>& x, int64_t rows) const {
    std::vector<float> y(static_cast<size_t>(rows * linear_.out()));
    linear_.Forward(x.data(), rows, y.data());
    return y;
  }

  Int8Linear linear_;
};

TEST_P(Int8LinearTest, ThreadsAtOnceGetWhatOneThreadGets) {
  const std::vector<int64_t> row_counts = {1, 3, 8, 16, 40};
  std::vector<std::vector<float>> inputs, want;
  for (size_t i = 0; i < row_counts.size(); ++i) {
    inputs.push_back(Input(row_counts[i], static_cast<unsigned>(i)));
    want.push_back(Product(inputs.back(), row_counts[i]));
  }
  std::vector<int> wrong(2, 0);
  std::vector<std::thread> threads;
  for (int k = 0; k < 2; ++k) {
    threads.emplace_back([&, k] {
      for (int round = 0; round < 300; ++round) {
        const size_t i = static_cast<size_t>(round + k) % row_counts.size();
        if (Product(inputs[i], row_counts[i]) != want[i]) wrong[static_cast<size_t>(k)] += 1;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong[0] + wrong[1], 0);
}

TEST_P(Int8LinearTest, EachRowIsTheSameAtEveryRowCount) {
  const std::vector<float> x = Input(20, 7);
  const std::vector<float> all = Product(x, 20);
  for (int64_t rows = 1; rows <= 20; ++rows) {
    const std::vector<float> part(x.begin(), x.begin() + rows * linear_.in());
    const std::vector<float> got = Product(part, rows);
    EXPECT_TRUE(std::equal(got.begin(), got.end(), all.begin())) << rows << " rows";
  }
}

// fixed_range.Int8Linear's arithmetic in plain integers: what Forward must give.
std::vector<float> ExactProduct(const Int8Linear& l, const std::vector<float>& x, int64_t rows) {
  std::vector<float> y(static_cast<size_t>(rows * l.out()));
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t j = 0; j < l.out(); ++j) {
      int64_t acc = 0;
      for (int64_t i = 0; i < l.in(); ++i) {
        const float v = std::min(std::max(x[static_cast<size_t>(r * l.in() + i)], -l.bound()), l.bound());
        acc += static_cast<int64_t>(seq_math::RoundHalfEven(v * l.input_multiplier())) *
               l.weight()[static_cast<size_t>(j * l.in() + i)];
      }
      y[static_cast<size_t>(r * l.out() + j)] =
          static_cast<float>(acc) * l.output_scale() + l.bias()[static_cast<size_t>(j)];
    }
  }
  return y;
}

// Rows at the bound whose signs follow a column's weights (that column's
// largest sum), all at +bound and all at -bound, then ordinary rows.
std::vector<float> HardRows(const Int8Linear& l, int64_t* rows) {
  std::vector<float> x;
  for (int64_t j = 0; j < std::min<int64_t>(l.out(), 6); ++j) {
    for (int64_t i = 0; i < l.in(); ++i)
      x.push_back(l.weight()[j * l.in() + i] >= 0 ? l.bound() : -l.bound());
  }
  x.insert(x.end(), l.in(), l.bound());
  x.insert(x.end(), l.in(), -l.bound());
  std::mt19937 gen(3);
  std::normal_distribution<float> normal(0.0f, l.bound() / 2);
  for (int64_t k = 0; k < 4 * l.in(); ++k) x.push_back(normal(gen));
  *rows = static_cast<int64_t>(x.size()) / l.in();
  return x;
}

TEST_P(Int8LinearTest, GivesTheExactIntegerProductEvenWhereSixteenBitPairsWouldSaturate) {
  int64_t rows = 0;
  const std::vector<float> x = HardRows(linear_, &rows);
  EXPECT_EQ(Product(x, rows), ExactProduct(linear_, x, rows))
      << "arithmetic " << static_cast<int>(linear_.arithmetic());
}

INSTANTIATE_TEST_SUITE_P(ShippedLayers, Int8LinearTest,
                         ::testing::Values("encoder.recurrent", "cell.input", "out", "attn_hidden"));

// Every weight and input at the int8 extremes: 127 x 127 pairs overflow a
// 16-bit sum, which is what oneDNN's int8 kernels without VNNI saturate.
TEST(Int8LinearArithmetic, EachArithmeticThisCpuRunsIsExactAtTheExtremes) {
  CapOneDnnIsa();
  const int64_t in = 608, out = 24;  // the widest product of the shipped model (the output layer)
  std::vector<int8_t> weight(static_cast<size_t>(in * out));
  for (size_t k = 0; k < weight.size(); ++k)
    weight[k] = (k / in) % 3 == 2 ? (k % 2 ? 127 : -127) : ((k / in) % 3 ? -127 : 127);
  std::vector<Int8Linear::Arithmetic> kinds = {Int8Linear::Arithmetic::kAuto, Int8Linear::Arithmetic::kFloat};
  if (Int8Linear::Int8KernelsAreExact()) kinds.push_back(Int8Linear::Arithmetic::kInt8);
  for (Int8Linear::Arithmetic kind : kinds) {
    auto l = Int8Linear::FromParameters(weight, std::vector<float>(out, 0.5f), 1.0f, 127.0f, 1.0f, "extremes",
                                        kind);
    ASSERT_TRUE(l.ok()) << l.status();
    int64_t rows = 0;
    const std::vector<float> x = HardRows(*l, &rows);
    std::vector<float> y(static_cast<size_t>(rows * out));
    l->Forward(x.data(), rows, y.data());
    EXPECT_EQ(y, ExactProduct(*l, x, rows)) << "arithmetic " << static_cast<int>(l->arithmetic());
    EXPECT_EQ(y[0], 127.0f * 127.0f * in + 0.5f);  // the first row follows the first column's signs
  }
}

TEST(Int8LinearArithmetic, RefusesAFloatProductTooWideToStayExact) {
  CapOneDnnIsa();
  auto l = Int8Linear::FromParameters(std::vector<int8_t>(1100, 1), {0.0f}, 1.0f, 127.0f, 1.0f, "wide",
                                      Int8Linear::Arithmetic::kFloat);
  ASSERT_FALSE(l.ok());
  EXPECT_NE(l.status().message().find("1040"), std::string::npos) << l.status();
}

// The encoder's recurrent weight holds both directions as two diagonal
// blocks; run as a batch of the blocks it must give the dense product's
// integers at every row count, in every arithmetic this CPU runs.
TEST(Int8LinearBlocks, ABlockDiagonalWeightRunsAsItsBlocksWithTheSameResult) {
  if (!std::filesystem::exists(kShippedSeq)) GTEST_SKIP() << "no shipped bundle at " << kShippedSeq;
  CapOneDnnIsa();
  const torch::jit::Module recurrent =
      torch::jit::load(kShippedSeq).attr("encoder").toModule().attr("recurrent").toModule();
  std::vector<Int8Linear::Arithmetic> kinds = {Int8Linear::Arithmetic::kFloat};
  if (Int8Linear::Int8KernelsAreExact()) kinds.push_back(Int8Linear::Arithmetic::kInt8);
  for (Int8Linear::Arithmetic kind : kinds) {
    auto blocks = Int8Linear::FromModule(recurrent, "encoder.recurrent", kind, /*blocks=*/2);
    ASSERT_TRUE(blocks.ok()) << blocks.status();
    int64_t hard_rows = 0;
    std::vector<float> x = HardRows(*blocks, &hard_rows);
    // Then ordinary rows, past the largest count with a primitive of its own.
    std::mt19937 gen(5);
    std::normal_distribution<float> normal(0.0f, 0.5f);
    while (static_cast<int64_t>(x.size()) < 20 * blocks->in()) x.push_back(normal(gen));
    for (int64_t rows :
         {int64_t{1}, int64_t{2}, int64_t{7}, hard_rows, int64_t{16}, int64_t{17}, int64_t{20}}) {
      const std::vector<float> part(x.begin(), x.begin() + rows * blocks->in());
      std::vector<float> y(static_cast<size_t>(rows * blocks->out()));
      blocks->Forward(part.data(), rows, y.data());
      EXPECT_EQ(y, ExactProduct(*blocks, part, rows))
          << rows << " rows, arithmetic " << static_cast<int>(kind);
    }
  }
}

TEST(Int8LinearBlocks, RefusesAWeightThatIsNotBlockDiagonal) {
  CapOneDnnIsa();
  std::vector<int8_t> weight(4 * 4, 0);
  weight[0 * 4 + 3] = 1;  // row 0 is in the first block, column 3 in the second
  auto l = Int8Linear::FromParameters(weight, std::vector<float>(4, 0.0f), 1.0f, 127.0f, 1.0f, "mixed",
                                      Int8Linear::Arithmetic::kAuto, /*blocks=*/2);
  ASSERT_FALSE(l.ok());
  EXPECT_NE(l.status().message().find("block-diagonal"), std::string::npos) << l.status();
}

}  // namespace
}  // namespace vocr

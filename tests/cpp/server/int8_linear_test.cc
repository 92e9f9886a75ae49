// Int8Linear on the shipped bundle's layers: the same product from many
// threads at once as from one (workers share a bundle, and oneDNN kernels with
// a scratchpad corrupt each other's results if they share it), and the same
// at every row count whichever primitive serves it.
#include "server/core/int8_linear.h"

#include <gtest/gtest.h>
#include <torch/script.h>

#include <filesystem>
#include <random>
#include <thread>
#include <vector>

#include "server/core/onednn_isa.h"

namespace vocr {
namespace {

const char kShippedSeq[] = VOCR_SOURCE_DIR "/model/repository/vocr_line/1/seq.pt";

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

INSTANTIATE_TEST_SUITE_P(ShippedLayers, Int8LinearTest,
                         ::testing::Values("encoder.recurrent", "cell.input", "out", "attn_hidden"));

}  // namespace
}  // namespace vocr

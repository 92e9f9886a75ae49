#include "client/latency_stats.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>

namespace vocr::client {
namespace {

std::vector<double> OneToHundred() {
  std::vector<double> v(100);
  std::iota(v.begin(), v.end(), 1.0);
  return v;
}

TEST(Percentile, PicksTheNearestRankSample) {
  const std::vector<double> v = OneToHundred();
  EXPECT_EQ(Percentile(v, 50), 50);
  EXPECT_EQ(Percentile(v, 90), 90);
  EXPECT_EQ(Percentile(v, 99), 99);
  EXPECT_EQ(Percentile(v, 99.5), 100);
  EXPECT_EQ(Percentile(v, 100), 100);
  EXPECT_EQ(Percentile(v, 29), 29);  // no off-by-one from 0.29 * 100 rounding up
}

TEST(Percentile, ReturnsAnObservedValueNotAnInterpolation) {
  const std::vector<double> v = {10, 20, 30, 40};
  EXPECT_EQ(Percentile(v, 50), 20);
  EXPECT_EQ(Percentile(v, 51), 30);
  EXPECT_EQ(Percentile(v, 99), 40);
}

TEST(Percentile, HandlesEdgeCases) {
  EXPECT_EQ(Percentile({}, 50), 0);
  EXPECT_EQ(Percentile({7}, 1), 7);
  EXPECT_EQ(Percentile({7}, 99), 7);
  EXPECT_EQ(Percentile({1, 2, 3}, 0), 1);
}

TEST(UnsortedPercentile, AgreesWithTheSortedDefinition) {
  std::vector<double> v = OneToHundred();
  std::shuffle(v.begin(), v.end(), std::mt19937(7));
  for (double p : {1.0, 50.0, 90.0, 99.0, 100.0}) {
    std::vector<double> copy = v;
    EXPECT_EQ(UnsortedPercentile(copy, p), Percentile(OneToHundred(), p)) << p;
  }
}

TEST(Summarize, ComputesMeanAndPercentilesOfUnsortedSamples) {
  std::vector<double> v = OneToHundred();
  std::reverse(v.begin(), v.end());
  const LatencySummary s = Summarize(v);
  EXPECT_EQ(s.count, 100u);
  EXPECT_DOUBLE_EQ(s.mean, 50.5);
  EXPECT_EQ(s.min, 1);
  EXPECT_EQ(s.p50, 50);
  EXPECT_EQ(s.p90, 90);
  EXPECT_EQ(s.p99, 99);
  EXPECT_EQ(s.max, 100);
}

TEST(Summarize, IsAllZeroWithoutSamples) {
  const LatencySummary s = Summarize({});
  EXPECT_EQ(s.count, 0u);
  EXPECT_EQ(s.max, 0);
}

}  // namespace
}  // namespace vocr::client

#include "client/latency_stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace vocr::client {

namespace {

// 1-based nearest rank of the p-th percentile among n > 0 samples.
size_t NearestRank(size_t n, double p) {
  if (p <= 0) return 1;
  // The small epsilon keeps p/100*n from landing just above an integer through
  // rounding (e.g. 0.29 * 100 = 29.000000000000004 would pick rank 30).
  const auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(n) - 1e-9));
  return std::clamp<size_t>(rank, 1, n);
}

}  // namespace

double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  return sorted[NearestRank(sorted.size(), p) - 1];
}

double UnsortedPercentile(std::vector<double>& samples, double p) {
  if (samples.empty()) return 0;
  const auto nth = samples.begin() + static_cast<std::ptrdiff_t>(NearestRank(samples.size(), p) - 1);
  std::nth_element(samples.begin(), nth, samples.end());
  return *nth;
}

LatencySummary Summarize(std::vector<double> samples) {
  LatencySummary summary;
  if (samples.empty()) return summary;
  std::sort(samples.begin(), samples.end());
  summary.count = samples.size();
  summary.mean = std::accumulate(samples.begin(), samples.end(), 0.0) / static_cast<double>(samples.size());
  summary.min = samples.front();
  summary.p50 = Percentile(samples, 50);
  summary.p90 = Percentile(samples, 90);
  summary.p99 = Percentile(samples, 99);
  summary.max = samples.back();
  return summary;
}

}  // namespace vocr::client

// Exact latency percentiles from recorded samples.
#ifndef VOCR_CLIENT_LATENCY_STATS_H_
#define VOCR_CLIENT_LATENCY_STATS_H_

#include <cstddef>
#include <vector>

namespace vocr::client {

// The p-th percentile (0 < p <= 100) of ascending `sorted` by the nearest-rank
// definition: the smallest sample with at least p% of the samples at or below
// it, i.e. sorted[ceil(p/100 * n) - 1]. It is always a latency that was
// actually observed, never an interpolation. p <= 0 gives the minimum; an
// empty input gives 0.
double Percentile(const std::vector<double>& sorted, double p);

// The same percentile without a full sort: nth_element puts the sample of
// that rank in place (O(n)), reordering `samples`. For live progress lines.
double UnsortedPercentile(std::vector<double>& samples, double p);

struct LatencySummary {
  size_t count = 0;
  double mean = 0;
  double min = 0;
  double p50 = 0;
  double p90 = 0;
  double p99 = 0;
  double max = 0;
};

// Sorts a copy of the samples; all zeros when there are none.
LatencySummary Summarize(std::vector<double> samples);

}  // namespace vocr::client

#endif  // VOCR_CLIENT_LATENCY_STATS_H_

#include "client/bench_report.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/recognition_json.h"

namespace vocr::client {
namespace {

std::string Load(const BenchResult& r) {
  if (r.rate > 0) return absl::StrFormat("open loop, %g calls/s, batch size %d", r.rate, r.batch_size);
  return absl::StrFormat("closed loop, concurrency %d, batch size %d", r.concurrency, r.batch_size);
}

uint64_t FailedCalls(const BenchResult& r) { return r.calls - r.ok_calls; }

}  // namespace

std::string FormatCounts(const std::map<std::string, uint64_t>& counts) {
  return absl::StrJoin(counts, ";", absl::PairFormatter("="));
}

void PrintBenchReport(const BenchResult& r, std::ostream& out) {
  const LatencySummary& l = r.latency_ms;
  out << "load        " << Load(r) << "\n";
  out << absl::StrFormat("calls       %d (%d ok, %d failed)\n", r.calls, r.ok_calls, FailedCalls(r));
  out << absl::StrFormat("lines       %d\n", r.lines);
  out << absl::StrFormat("time        %.2f s\n", r.seconds);
  out << absl::StrFormat("throughput  %.1f calls/s, %.1f lines/s\n", r.calls_per_s, r.lines_per_s);
  out << absl::StrFormat("latency     mean %.2f  p50 %.2f  p90 %.2f  p99 %.2f  max %.2f ms (%d ok calls)\n",
                         l.mean, l.p50, l.p90, l.p99, l.max, l.count);
  if (!r.errors.empty())
    out << "errors      " << absl::StrJoin(r.errors, ", ", absl::PairFormatter(" ")) << "\n";
  if (!r.line_errors.empty()) {
    out << "line errors " << absl::StrJoin(r.line_errors, ", ", absl::PairFormatter(" ")) << "\n";
  }
  if (r.dropped > 0) {
    out << absl::StrFormat("dropped     %d arrivals (max_outstanding calls were in flight)\n", r.dropped);
  }
}

void PrintSweepTable(const std::vector<BenchResult>& results, std::ostream& out) {
  out << absl::StrFormat("%11s %9s %10s %10s %9s %9s %9s %9s %9s  %s\n", "concurrency", "calls", "calls/s",
                         "lines/s", "mean ms", "p50 ms", "p90 ms", "p99 ms", "max ms", "errors");
  for (const BenchResult& r : results) {
    const LatencySummary& l = r.latency_ms;
    out << absl::StrFormat("%11d %9d %10.1f %10.1f %9.2f %9.2f %9.2f %9.2f %9.2f  %s\n", r.concurrency,
                           r.calls, r.calls_per_s, r.lines_per_s, l.mean, l.p50, l.p90, l.p99, l.max,
                           r.errors.empty() ? "0" : FormatCounts(r.errors));
  }
}

std::string BenchCsv(const std::vector<BenchResult>& results) {
  std::string csv =
      "concurrency,rate,batch_size,calls,ok_calls,failed_calls,lines,dropped,seconds,calls_per_s,lines_per_s,"
      "mean_ms,p50_ms,p90_ms,p99_ms,max_ms,errors,line_errors\n";
  for (const BenchResult& r : results) {
    const LatencySummary& l = r.latency_ms;
    absl::StrAppend(
        &csv, absl::StrFormat("%d,%g,%d,%d,%d,%d,%d,%d,%.3f,%.2f,%.2f,%.3f,%.3f,%.3f,%.3f,%.3f,%s,%s\n",
                              r.concurrency, r.rate, r.batch_size, r.calls, r.ok_calls, FailedCalls(r),
                              r.lines, r.dropped, r.seconds, r.calls_per_s, r.lines_per_s, l.mean, l.p50,
                              l.p90, l.p99, l.max, FormatCounts(r.errors), FormatCounts(r.line_errors)));
  }
  return csv;
}

nlohmann::ordered_json BenchJson(const std::vector<BenchResult>& results) {
  nlohmann::ordered_json runs = nlohmann::ordered_json::array();
  for (const BenchResult& r : results) {
    const LatencySummary& l = r.latency_ms;
    runs.push_back({
        {"concurrency", r.concurrency},
        {"rate", r.rate},
        {"batch_size", r.batch_size},
        {"calls", r.calls},
        {"ok_calls", r.ok_calls},
        {"failed_calls", FailedCalls(r)},
        {"lines", r.lines},
        {"dropped", r.dropped},
        {"seconds", Round6(r.seconds)},
        {"calls_per_s", Round6(r.calls_per_s)},
        {"lines_per_s", Round6(r.lines_per_s)},
        {"latency_ms",
         {{"mean", Round6(l.mean)},
          {"min", Round6(l.min)},
          {"p50", Round6(l.p50)},
          {"p90", Round6(l.p90)},
          {"p99", Round6(l.p99)},
          {"max", Round6(l.max)}}},
        {"errors", r.errors},
        {"line_errors", r.line_errors},
    });
  }
  return {{"runs", std::move(runs)}};
}

}  // namespace vocr::client

// Bench results for people (report, sweep table) and for plots (CSV, JSON).
#ifndef VOCR_CLIENT_BENCH_REPORT_H_
#define VOCR_CLIENT_BENCH_REPORT_H_

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "client/bench_runner.h"

namespace vocr::client {

// "DEADLINE_EXCEEDED=1;UNAVAILABLE=3" (sorted by name; "" when none). No
// commas, so it sits in a CSV cell unquoted.
std::string FormatCounts(const std::map<std::string, uint64_t>& counts);

// The full report of one run.
void PrintBenchReport(const BenchResult& result, std::ostream& out);

// One row per concurrency level.
void PrintSweepTable(const std::vector<BenchResult>& results, std::ostream& out);

// A header line and one row per run; latencies in ms.
std::string BenchCsv(const std::vector<BenchResult>& results);

// {"runs": [{...}, ...]}: the same shape for one run and for a sweep.
nlohmann::ordered_json BenchJson(const std::vector<BenchResult>& results);

}  // namespace vocr::client

#endif  // VOCR_CLIENT_BENCH_REPORT_H_

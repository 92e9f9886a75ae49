#include "client/bench_report.h"

#include <gtest/gtest.h>

#include <sstream>

#include "absl/strings/str_split.h"

namespace vocr::client {
namespace {

BenchResult SampleResult(int concurrency) {
  BenchResult r;
  r.concurrency = concurrency;
  r.batch_size = 1;
  r.calls = 105;
  r.ok_calls = 100;
  r.lines = 100;
  r.seconds = 10;
  r.calls_per_s = 10;
  r.lines_per_s = 10;
  r.latency_ms = Summarize({1, 2, 3, 4});
  r.errors = {{"UNAVAILABLE", 3}, {"DEADLINE_EXCEEDED", 2}};
  return r;
}

TEST(FormatCounts, ListsCodesByNameWithoutCommas) {
  EXPECT_EQ(FormatCounts({{"UNAVAILABLE", 3}, {"DEADLINE_EXCEEDED", 2}}),
            "DEADLINE_EXCEEDED=2;UNAVAILABLE=3");
  EXPECT_EQ(FormatCounts({}), "");
}

TEST(BenchCsv, WritesAHeaderAndOneRowPerSweepLevel) {
  const std::string csv = BenchCsv({SampleResult(1), SampleResult(2), SampleResult(4)});
  const std::vector<std::string> rows = absl::StrSplit(csv, '\n', absl::SkipEmpty());
  ASSERT_EQ(rows.size(), 4u);
  const size_t columns = std::vector<std::string>(absl::StrSplit(rows[0], ',')).size();
  for (const std::string& row : rows)
    EXPECT_EQ(std::vector<std::string>(absl::StrSplit(row, ',')).size(), columns);
  EXPECT_EQ(rows[2].substr(0, 2), "2,");
  EXPECT_NE(rows[1].find("DEADLINE_EXCEEDED=2;UNAVAILABLE=3"), std::string::npos);
}

TEST(BenchJson, HasTheSameShapeForOneRunAndForASweep) {
  const nlohmann::ordered_json one = BenchJson({SampleResult(8)});
  ASSERT_EQ(one["runs"].size(), 1u);
  EXPECT_EQ(one["runs"][0]["concurrency"], 8);
  EXPECT_EQ(one["runs"][0]["failed_calls"], 5);
  EXPECT_EQ(one["runs"][0]["latency_ms"]["p99"], 4.0);
  EXPECT_EQ(one["runs"][0]["errors"]["UNAVAILABLE"], 3);
  EXPECT_EQ(BenchJson({SampleResult(1), SampleResult(2)})["runs"].size(), 2u);
}

TEST(PrintBenchReport, ShowsThroughputPercentilesAndErrorsByCode) {
  std::ostringstream out;
  PrintBenchReport(SampleResult(4), out);
  EXPECT_NE(out.str().find("10.0 calls/s"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("p99 4.00"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("UNAVAILABLE 3"), std::string::npos) << out.str();
}

TEST(PrintSweepTable, PrintsOneRowPerLevelUnderAHeader) {
  std::ostringstream out;
  PrintSweepTable({SampleResult(1), SampleResult(16)}, out);
  const std::vector<std::string> rows = absl::StrSplit(out.str(), '\n', absl::SkipEmpty());
  EXPECT_EQ(rows.size(), 3u);
}

}  // namespace
}  // namespace vocr::client

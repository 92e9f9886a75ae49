// The load generator against fake servers: it stops by itself, counts what it
// should, holds the asked load, and spreads calls with round_robin.
#include "client/bench_runner.h"

#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <sstream>

#include "client/bench_cmd.h"
#include "client/channel.h"
#include "fake_ocr_server.h"
#include "test_files.h"

namespace vocr::client {
namespace {

using namespace std::chrono_literals;
using vocr::testing::FakeOcrServer;
using vocr::testing::kBadImage;
using vocr::testing::TestDir;

std::vector<ocr::v1::Image> EncodedImages(std::initializer_list<const char*> contents) {
  std::vector<ocr::v1::Image> images;
  for (const char* c : contents) images.emplace_back().set_encoded(c);
  return images;
}

std::unique_ptr<ocr::v1::OcrService::Stub> StubFor(const std::string& target,
                                                   const std::string& lb_policy = "") {
  ChannelOptions options;
  options.target = target;
  options.lb_policy = lb_policy;
  return ocr::v1::OcrService::NewStub(*MakeChannel(options));
}

BenchOptions Short(double duration_s, double warmup_s = 0) {
  BenchOptions options;
  options.duration_s = duration_s;
  options.warmup_s = warmup_s;
  options.call.timeout_ms = 2000;
  return options;
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

TEST(RunBench, ClosedLoopStopsByItselfAndSkipsWarmupCalls) {
  FakeOcrServer server(5ms);
  auto stub = StubFor(server.address());
  BenchOptions options = Short(1.0, 0.3);
  options.concurrency = 4;
  std::ostringstream progress;
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<BenchResult> result = RunBench(*stub, EncodedImages({"một", "hai"}), options, progress);
  const double took = SecondsSince(start);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_GE(took, 1.3);
  EXPECT_LT(took, 2.5);
  EXPECT_EQ(result->concurrency, 4);
  EXPECT_GT(result->ok_calls, 100u);  // ~4 / 5 ms for 1 s = ~800
  EXPECT_EQ(result->calls, result->ok_calls);
  EXPECT_EQ(result->lines, result->ok_calls);
  EXPECT_TRUE(result->errors.empty());
  EXPECT_GT(static_cast<uint64_t>(server.calls()), result->calls);  // warm-up calls went out, uncounted
  EXPECT_GE(result->latency_ms.p50, 5.0);
  EXPECT_LE(result->latency_ms.p50, result->latency_ms.p99);
  EXPECT_EQ(result->latency_ms.count, result->ok_calls);
  EXPECT_NEAR(result->seconds, 1.0, 0.2);
  EXPECT_EQ(progress.str(), "");  // progress off
}

TEST(RunBench, OpenLoopHoldsTheRequestedUniformRate) {
  FakeOcrServer server;
  auto stub = StubFor(server.address());
  BenchOptions options = Short(1.0);
  options.rate = 200;
  options.arrival = Arrival::kUniform;
  absl::StatusOr<BenchResult> result = RunBench(*stub, EncodedImages({"x"}), options, std::cerr);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->concurrency, 0);
  EXPECT_EQ(result->rate, 200);
  EXPECT_NEAR(static_cast<double>(result->calls), 200, 1);  // one every 5 ms for 1 s
  EXPECT_EQ(result->dropped, 0u);
}

TEST(RunBench, OpenLoopPoissonArrivalsAverageTheRate) {
  FakeOcrServer server;
  auto stub = StubFor(server.address());
  BenchOptions options = Short(2.0);
  options.rate = 200;
  options.arrival = Arrival::kPoisson;
  absl::StatusOr<BenchResult> result = RunBench(*stub, EncodedImages({"x"}), options, std::cerr);
  ASSERT_TRUE(result.ok()) << result.status();
  // 400 expected; a Poisson count has a standard deviation of 20.
  EXPECT_NEAR(static_cast<double>(result->calls), 400, 80);
}

TEST(RunBench, OpenLoopDropsArrivalsBeyondTheOutstandingCap) {
  FakeOcrServer server(200ms);
  auto stub = StubFor(server.address());
  BenchOptions options = Short(1.0);
  options.rate = 100;
  options.arrival = Arrival::kUniform;
  options.max_outstanding = 2;
  absl::StatusOr<BenchResult> result = RunBench(*stub, EncodedImages({"x"}), options, std::cerr);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_LE(result->calls, 14u);  // at most 2 in flight, 200 ms each
  EXPECT_GT(result->dropped, 80u);
  EXPECT_EQ(result->calls + result->dropped, 100u);
}

TEST(RunBench, BatchSizeSendsRecognizeBatchAndCountsLinesAndItemErrors) {
  FakeOcrServer server;
  auto stub = StubFor(server.address());
  BenchOptions options = Short(0.5);
  options.concurrency = 2;
  options.batch_size = 4;
  // Batches cycle through the 3 images: every batch holds 1 or 2 bad ones.
  absl::StatusOr<BenchResult> result =
      RunBench(*stub, EncodedImages({"a", kBadImage, "b"}), options, std::cerr);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(server.recognize_calls(), 0);
  EXPECT_GT(result->ok_calls, 0u);
  EXPECT_EQ(result->batch_size, 4);
  EXPECT_EQ(result->lines + result->line_errors["INVALID_ARGUMENT"], 4 * result->ok_calls);
  EXPECT_GT(result->line_errors["INVALID_ARGUMENT"], 0u);
  EXPECT_TRUE(result->errors.empty());
}

TEST(RunBench, CountsFailedCallsByCodeWithoutHammeringADeadServer) {
  int unused_port = 0;
  {
    FakeOcrServer gone;
    unused_port = gone.port();
  }
  auto stub = StubFor("127.0.0.1:" + std::to_string(unused_port));
  BenchOptions options = Short(0.5);
  options.concurrency = 4;
  absl::StatusOr<BenchResult> result = RunBench(*stub, EncodedImages({"x"}), options, std::cerr);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->ok_calls, 0u);
  EXPECT_GT(result->calls, 0u);
  EXPECT_EQ(result->errors["UNAVAILABLE"], result->calls);
  // Each slot pauses 20 ms after a failure: at most ~4 * 0.5 s / 20 ms calls.
  EXPECT_LE(result->calls, 4u * 26u);
}

TEST(RunBench, ReportsDeadlinesAndReturnsWithinTheTimeout) {
  FakeOcrServer server(1000ms);
  auto stub = StubFor(server.address());
  BenchOptions options = Short(0.3);
  options.concurrency = 2;
  options.call.timeout_ms = 50;
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<BenchResult> result = RunBench(*stub, EncodedImages({"x"}), options, std::cerr);
  ASSERT_TRUE(result.ok()) << result.status();
  // Waiting for the server's answers would take 0.3 s + 1 s.
  EXPECT_LT(SecondsSince(start), 0.9);
  EXPECT_GT(result->errors["DEADLINE_EXCEEDED"], 0u);
  EXPECT_EQ(result->ok_calls, 0u);
}

TEST(RunBench, PrintsAProgressLineEverySecond) {
  FakeOcrServer server;
  auto stub = StubFor(server.address());
  BenchOptions options = Short(1.5, 1.2);
  options.concurrency = 1;
  options.progress = true;
  std::ostringstream progress;
  ASSERT_TRUE(RunBench(*stub, EncodedImages({"x"}), options, progress).ok());
  // At 1 s (warming up) and 2.2 s (1 s into the measurement).
  EXPECT_NE(progress.str().find("warming up"), std::string::npos) << progress.str();
  EXPECT_NE(progress.str().find("calls/s"), std::string::npos) << progress.str();
  EXPECT_NE(progress.str().find("p99"), std::string::npos) << progress.str();
}

TEST(RunBench, RejectsOptionsThatCannotRun) {
  FakeOcrServer server;
  auto stub = StubFor(server.address());
  BenchOptions no_timeout = Short(1);
  no_timeout.call.timeout_ms = 0;
  EXPECT_EQ(RunBench(*stub, EncodedImages({"x"}), no_timeout, std::cerr).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RunBench(*stub, {}, Short(1), std::cerr).status().code(), absl::StatusCode::kInvalidArgument);
  BenchOptions zero = Short(1);
  zero.concurrency = 0;
  EXPECT_FALSE(RunBench(*stub, EncodedImages({"x"}), zero, std::cerr).ok());
  EXPECT_EQ(server.calls(), 0);
}

TEST(RunBench, RoundRobinSpreadsCallsOverEveryAddressAndPickFirstDoesNot) {
  FakeOcrServer a(1ms);
  FakeOcrServer b(1ms);
  const std::string both = "ipv4:" + a.address() + "," + b.address();
  BenchOptions options = Short(0.5);
  options.concurrency = 4;

  auto spread = StubFor(both, "round_robin");
  ASSERT_TRUE(RunBench(*spread, EncodedImages({"x"}), options, std::cerr).ok());
  EXPECT_GT(a.calls(), 20);
  EXPECT_GT(b.calls(), 20);

  const int a_before = a.calls();
  const int b_before = b.calls();
  auto pinned = StubFor(both, "pick_first");
  ASSERT_TRUE(RunBench(*pinned, EncodedImages({"x"}), options, std::cerr).ok());
  EXPECT_EQ(std::min(a.calls() - a_before, b.calls() - b_before), 0);  // one connection, one server
}

TEST(RunSweep, RunsOnceAtEachConcurrencyLevel) {
  FakeOcrServer server(2ms);
  auto stub = StubFor(server.address());
  absl::StatusOr<std::vector<BenchResult>> results =
      RunSweep(*stub, EncodedImages({"x"}), Short(0.3), {1, 4}, std::cerr);
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_EQ(results->size(), 2u);
  EXPECT_EQ((*results)[0].concurrency, 1);
  EXPECT_EQ((*results)[1].concurrency, 4);
  EXPECT_GT((*results)[1].ok_calls, (*results)[0].ok_calls);
}

TEST(RunSweep, RefusesAnOpenLoopRate) {
  FakeOcrServer server;
  auto stub = StubFor(server.address());
  BenchOptions options = Short(0.3);
  options.rate = 10;
  EXPECT_EQ(RunSweep(*stub, EncodedImages({"x"}), options, {1, 2}, std::cerr).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(RunBenchCommand, WritesCsvAndJsonReportsForASweepOverADirectory) {
  FakeOcrServer server;
  auto stub = StubFor(server.address());
  TestDir dir;
  dir.Write("images/a.png", "một");
  dir.Write("images/sub/b.jpg", "hai");
  dir.Write("images/notes.txt", kBadImage);  // not an image extension: skipped
  BenchCommandOptions options;
  options.bench = Short(0.3);
  options.sweep = {1, 2};
  options.csv_path = dir.Path("sweep.csv");
  options.json_path = dir.Path("sweep.json");
  std::ostringstream out, err;
  EXPECT_EQ(RunBenchCommand(*stub, {dir.Path("images")}, options, out, err), 0) << err.str();
  EXPECT_NE(out.str().find("concurrency"), std::string::npos) << out.str();

  std::ifstream csv(options.csv_path);
  std::string line;
  int rows = 0;
  while (std::getline(csv, line)) ++rows;
  EXPECT_EQ(rows, 3);  // header + 2 levels
  std::ifstream json_file(options.json_path);
  const nlohmann::ordered_json json = nlohmann::ordered_json::parse(json_file);
  ASSERT_EQ(json["runs"].size(), 2u);
  EXPECT_EQ(json["runs"][1]["concurrency"], 2);
  EXPECT_EQ(json["runs"][0]["errors"].size(), 0u);
}

TEST(RunBenchCommand, FailsWhenNoCallSucceeds) {
  FakeOcrServer server;
  auto stub = StubFor(server.address());
  TestDir dir;
  const std::string bad = dir.Write("bad.png", kBadImage);
  BenchCommandOptions options;
  options.bench = Short(0.2);
  std::ostringstream out, err;
  EXPECT_EQ(RunBenchCommand(*stub, {bad}, options, out, err), 1);
  EXPECT_NE(out.str().find("INVALID_ARGUMENT"), std::string::npos) << out.str();
}

}  // namespace
}  // namespace vocr::client

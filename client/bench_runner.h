// `ocr_client bench`: the load generator.
#ifndef VOCR_CLIENT_BENCH_RUNNER_H_
#define VOCR_CLIENT_BENCH_RUNNER_H_

#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/channel.h"
#include "client/cli_parse.h"
#include "client/latency_stats.h"
#include "ocr/v1/ocr.grpc.pb.h"

namespace vocr::client {

struct BenchOptions {
  CallOptions call;     // timeout_ms must be > 0: it bounds the final drain
  int concurrency = 4;  // closed loop: this many calls always in flight
  double rate = 0;      // > 0: open loop at this many calls/s instead
  Arrival arrival = Arrival::kPoisson;
  int max_outstanding = 256;     // open loop: arrivals beyond this many in flight are dropped
  double duration_s = 10;        // measured part
  double warmup_s = 2;           // before it; calls started then are not counted
  int batch_size = 1;            // 1: Recognize; > 1: RecognizeBatch of that many images
  bool progress = false;         // a progress line on the progress stream every second
  bool progress_redraw = false;  // redraw it in place with '\r' (a terminal) instead of one line per second
  uint64_t seed = 1;             // for Poisson arrivals, so runs are repeatable
};

struct BenchResult {
  // The load that was asked for.
  int concurrency = 0;  // 0 in open loop
  double rate = 0;      // 0 in closed loop
  int batch_size = 1;
  // Counted calls: those started in the measured window, whatever their outcome.
  uint64_t calls = 0;
  uint64_t ok_calls = 0;
  uint64_t lines = 0;    // lines recognised by OK calls (batch items that failed excluded)
  uint64_t dropped = 0;  // open-loop arrivals not sent because max_outstanding were in flight
  // From the end of the warm-up to the completion of the last counted call.
  double seconds = 0;
  double calls_per_s = 0;  // OK calls per second
  double lines_per_s = 0;
  LatencySummary latency_ms;                    // OK calls only, exact from every sample
  std::map<std::string, uint64_t> errors;       // failed calls by gRPC code name
  std::map<std::string, uint64_t> line_errors;  // failed items inside OK RecognizeBatch calls
};

// Runs one load test against `stub` (a real stub: it needs the callback API)
// cycling through `images`. The closed loop keeps `concurrency` calls in
// flight, issuing the next as soon as one returns (after a failed call that
// slot pauses 20 ms, so a dead server is not hammered in a tight loop). The
// open loop sends calls at the scheduled arrival times whatever the server
// does, and measures latency from the scheduled time so a stalled client
// cannot hide queueing (coordinated omission). Either way one thread sleeps
// until the next thing to do; calls complete on gRPC's threads. Returns after
// warmup + duration plus the time the last calls take to finish (at most the
// call timeout). INVALID_ARGUMENT for bad options.
absl::StatusOr<BenchResult> RunBench(ocr::v1::OcrService::StubInterface& stub,
                                     const std::vector<ocr::v1::Image>& images, const BenchOptions& options,
                                     std::ostream& progress);

// One closed-loop run per concurrency level, in order.
absl::StatusOr<std::vector<BenchResult>> RunSweep(ocr::v1::OcrService::StubInterface& stub,
                                                  const std::vector<ocr::v1::Image>& images,
                                                  const BenchOptions& options, const std::vector<int>& levels,
                                                  std::ostream& progress);

}  // namespace vocr::client

#endif  // VOCR_CLIENT_BENCH_RUNNER_H_

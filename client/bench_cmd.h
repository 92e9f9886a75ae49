// `ocr_client bench FILE_OR_DIR...`: load the images, run, report.
#ifndef VOCR_CLIENT_BENCH_CMD_H_
#define VOCR_CLIENT_BENCH_CMD_H_

#include <ostream>
#include <string>
#include <vector>

#include "client/bench_runner.h"
#include "ocr/v1/ocr.grpc.pb.h"

namespace vocr::client {

struct BenchCommandOptions {
  BenchOptions bench;
  bool raw = false;
  std::vector<int> sweep;  // concurrency levels; empty: a single run
  std::string csv_path;    // write the CSV here ("" = don't)
  std::string json_path;   // write the JSON here ("" = don't)
  bool json = false;       // print the JSON to `out` instead of the text report
};

// Loads every image up front, runs the bench (or the sweep), prints the
// report to `out` and progress to `err`, and writes the CSV/JSON files.
// Returns 0 when the run completed with at least one successful call, 1 when
// every call failed or a file could not be read or written, 2 for bad options.
int RunBenchCommand(ocr::v1::OcrService::StubInterface& stub, const std::vector<std::string>& paths,
                    const BenchCommandOptions& options, std::ostream& out, std::ostream& err);

}  // namespace vocr::client

#endif  // VOCR_CLIENT_BENCH_CMD_H_

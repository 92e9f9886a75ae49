#include "client/bench_cmd.h"

#include <fstream>

#include "client/bench_report.h"
#include "client/images.h"
#include "client/status_names.h"

namespace vocr::client {
namespace {

bool WriteFile(const std::string& path, const std::string& contents, std::ostream& err) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file << contents;
  file.close();
  if (!file) {
    err << "bench: cannot write " << path << "\n";
    return false;
  }
  return true;
}

}  // namespace

int RunBenchCommand(ocr::v1::OcrService::StubInterface& stub, const std::vector<std::string>& paths,
                    const BenchCommandOptions& options, std::ostream& out, std::ostream& err) {
  if (paths.empty()) {
    err << "bench: give image files or directories to send\n";
    return 2;
  }
  absl::StatusOr<std::vector<std::string>> files = CollectImageFiles(paths);
  if (!files.ok()) {
    err << "bench: " << files.status().message() << "\n";
    return 1;
  }
  std::vector<ocr::v1::Image> images;
  for (const std::string& file : *files) {
    absl::StatusOr<ocr::v1::Image> image = LoadImage(file, options.raw);
    if (!image.ok()) {
      err << file << ": " << CodeName(image.status().code()) << ": " << image.status().message() << "\n";
      return 1;
    }
    images.push_back(std::move(*image));
  }

  std::vector<BenchResult> results;
  if (options.sweep.empty()) {
    absl::StatusOr<BenchResult> result = RunBench(stub, images, options.bench, err);
    if (!result.ok()) {
      err << "bench: " << result.status().message() << "\n";
      return 2;
    }
    results.push_back(std::move(*result));
  } else {
    absl::StatusOr<std::vector<BenchResult>> sweep =
        RunSweep(stub, images, options.bench, options.sweep, err);
    if (!sweep.ok()) {
      err << "bench: " << sweep.status().message() << "\n";
      return 2;
    }
    results = std::move(*sweep);
  }

  if (options.json) {
    out << BenchJson(results).dump(2) << "\n";
  } else if (results.size() == 1) {
    PrintBenchReport(results[0], out);
  } else {
    PrintSweepTable(results, out);
  }
  bool ok = true;
  if (!options.csv_path.empty()) ok = WriteFile(options.csv_path, BenchCsv(results), err) && ok;
  if (!options.json_path.empty())
    ok = WriteFile(options.json_path, BenchJson(results).dump(2) + "\n", err) && ok;

  uint64_t ok_calls = 0;
  for (const BenchResult& r : results) ok_calls += r.ok_calls;
  if (ok_calls == 0) {
    err << "bench: no call succeeded\n";
    ok = false;
  }
  return ok ? 0 : 1;
}

}  // namespace vocr::client

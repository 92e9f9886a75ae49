#include "client/eval_cmd.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <thread>

#include "absl/status/status.h"
#include "client/images.h"
#include "client/status_names.h"

namespace vocr::client {
namespace {

void MarkFailed(EvalLine& line, const absl::Status& status) {
  line.hypothesis.clear();
  line.error_code = CodeName(status.code());
  line.error_message = std::string(status.message());
}

// The lines whose images loaded, cut into calls of `batch_size`.
std::vector<std::vector<size_t>> MakeChunks(const std::vector<std::optional<ocr::v1::Image>>& images,
                                            size_t batch_size) {
  std::vector<std::vector<size_t>> chunks;
  for (size_t i = 0; i < images.size(); ++i) {
    if (!images[i].has_value()) continue;
    if (chunks.empty() || chunks.back().size() >= batch_size) chunks.emplace_back();
    chunks.back().push_back(i);
  }
  return chunks;
}

}  // namespace

EvalRun RecognizeLabeled(ocr::v1::OcrService::StubInterface& stub, const std::vector<LabeledLine>& labels,
                         const EvalOptions& options) {
  EvalRun run;
  run.lines.resize(labels.size());
  std::vector<std::optional<ocr::v1::Image>> images(labels.size());
  for (size_t i = 0; i < labels.size(); ++i) {
    run.lines[i].path = labels[i].path;
    run.lines[i].reference = labels[i].text;
    absl::StatusOr<ocr::v1::Image> image = LoadImage(labels[i].path, options.raw);
    if (image.ok()) {
      images[i] = std::move(*image);
    } else {
      MarkFailed(run.lines[i], image.status());
    }
  }

  const std::vector<std::vector<size_t>> chunks =
      MakeChunks(images, static_cast<size_t>(std::max(1, options.batch_size)));
  std::atomic<size_t> next_chunk{0};
  std::mutex failures_mutex;

  // Each worker owns the lines of the chunks it takes, so only the failure
  // counts need a lock.
  auto worker = [&] {
    for (size_t c = next_chunk++; c < chunks.size(); c = next_chunk++) {
      const std::vector<size_t>& chunk = chunks[c];
      grpc::ClientContext context;
      SetTimeout(context, options.call.timeout_ms);
      grpc::Status status;
      if (options.batch_size <= 1) {
        ocr::v1::RecognizeRequest request;
        *request.mutable_image() = std::move(*images[chunk[0]]);
        *request.mutable_model() = options.call.model;
        ocr::v1::RecognizeResponse response;
        status = stub.Recognize(&context, request, &response);
        if (status.ok()) run.lines[chunk[0]].hypothesis = response.result().text();
      } else {
        ocr::v1::RecognizeBatchRequest request;
        for (size_t i : chunk) *request.add_images() = std::move(*images[i]);
        *request.mutable_model() = options.call.model;
        ocr::v1::RecognizeBatchResponse response;
        status = stub.RecognizeBatch(&context, request, &response);
        if (status.ok() && response.results_size() != static_cast<int>(chunk.size())) {
          status = grpc::Status(grpc::StatusCode::INTERNAL, "server returned a different number of results");
        }
        for (size_t k = 0; status.ok() && k < chunk.size(); ++k) {
          const ocr::v1::LineResult& result = response.results(static_cast<int>(k));
          if (result.code() == 0) {
            run.lines[chunk[k]].hypothesis = result.result().text();
          } else {
            MarkFailed(run.lines[chunk[k]],
                       absl::Status(static_cast<absl::StatusCode>(result.code()), result.message()));
          }
        }
      }
      if (!status.ok()) {
        for (size_t i : chunk) MarkFailed(run.lines[i], ToAbslStatus(status));
        std::lock_guard<std::mutex> lock(failures_mutex);
        ++run.failed_calls_by_code[CodeName(status.error_code())];
      }
    }
  };

  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  const size_t thread_count =
      std::min<size_t>(std::max(1, options.concurrency), std::max<size_t>(1, chunks.size()));
  for (size_t t = 0; t < thread_count; ++t) threads.emplace_back(worker);
  for (std::thread& thread : threads) thread.join();
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return run;
}

int RunEval(ocr::v1::OcrService::StubInterface& stub, const std::string& labels_path,
            const EvalOptions& options, std::ostream& out, std::ostream& err) {
  if (labels_path.empty()) {
    err << "eval: --labels is required\n";
    return 2;
  }
  if (options.concurrency < 1 || options.batch_size < 1) {
    err << "eval: --concurrency and --batch_size must be at least 1\n";
    return 2;
  }
  absl::StatusOr<std::vector<LabeledLine>> labels = ReadLabelsFile(labels_path);
  if (!labels.ok()) {
    err << "eval: " << CodeName(labels.status().code()) << ": " << labels.status().message() << "\n";
    return 1;
  }
  if (labels->empty()) {
    err << "eval: " << labels_path << " holds no labelled lines\n";
    return 1;
  }
  const EvalRun run = RecognizeLabeled(stub, *labels, options);
  const EvalReport report = ScoreEval(run.lines, run.failed_calls_by_code, run.seconds, options.worst);
  if (options.json) {
    out << EvalReportToJson(report).dump(2) << "\n";
  } else {
    PrintEvalReport(report, out);
  }
  // Every line failing means the server was not evaluated at all.
  return report.failed_lines == report.rates.lines() ? 1 : 0;
}

}  // namespace vocr::client

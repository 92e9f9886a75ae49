#include "client/recognize_cmd.h"

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>

#include "absl/status/status.h"
#include "client/images.h"
#include "client/recognition_json.h"
#include "client/status_names.h"

namespace vocr::client {
namespace {

using Clock = std::chrono::steady_clock;

double MillisSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Prints one file's outcome in the chosen format; returns whether it succeeded.
class Printer {
 public:
  Printer(const RecognizeOptions& options, bool several, std::ostream& out, std::ostream& err)
      : options_(options), several_(several), out_(out), err_(err) {}

  void Success(const std::string& file, const ocr::v1::Recognition& recognition, double latency_ms) {
    if (options_.json) {
      nlohmann::ordered_json line = {{"file", file}};
      line.update(RecognitionToJson(recognition));
      line["latency_ms"] = Round6(latency_ms);
      out_ << line.dump() << "\n";
    } else if (several_) {
      out_ << file << "\t" << recognition.text() << "\n";
    } else {
      out_ << recognition.text() << "\n";
    }
  }

  void Failure(const std::string& file, const absl::Status& status) {
    const std::string code = CodeName(status.code());
    err_ << file << ": " << code << ": " << status.message() << "\n";
    if (options_.json) {
      out_ << nlohmann::ordered_json{{"file", file},
                                     {"code", code},
                                     {"message", std::string(status.message())}}
                  .dump()
           << "\n";
    }
  }

 private:
  const RecognizeOptions& options_;
  const bool several_;
  std::ostream& out_;
  std::ostream& err_;
};

// One Recognize call per file.
bool RecognizeOneByOne(ocr::v1::OcrService::StubInterface& stub, const std::vector<std::string>& files,
                       const RecognizeOptions& options, Printer& printer) {
  bool all_ok = true;
  for (const std::string& file : files) {
    absl::StatusOr<ocr::v1::Image> image = LoadImage(file, options.raw);
    if (!image.ok()) {
      printer.Failure(file, image.status());
      all_ok = false;
      continue;
    }
    ocr::v1::RecognizeRequest request;
    *request.mutable_image() = std::move(*image);
    *request.mutable_model() = options.call.model;
    ocr::v1::RecognizeResponse response;
    grpc::ClientContext context;
    SetTimeout(context, options.call.timeout_ms);
    const Clock::time_point start = Clock::now();
    const grpc::Status status = stub.Recognize(&context, request, &response);
    if (status.ok()) {
      printer.Success(file, response.result(), MillisSince(start));
    } else {
      printer.Failure(file, ToAbslStatus(status));
      all_ok = false;
    }
  }
  return all_ok;
}

// Every readable file in one RecognizeBatch call; results come back in
// request order, each with its own code.
bool RecognizeAsOneBatch(ocr::v1::OcrService::StubInterface& stub, const std::vector<std::string>& files,
                         const RecognizeOptions& options, Printer& printer) {
  ocr::v1::RecognizeBatchRequest request;
  *request.mutable_model() = options.call.model;
  // Per file: its load error, or nullopt when it went into the request.
  std::vector<std::optional<absl::Status>> load_errors;
  for (const std::string& file : files) {
    absl::StatusOr<ocr::v1::Image> image = LoadImage(file, options.raw);
    if (image.ok()) {
      *request.add_images() = std::move(*image);
      load_errors.push_back(std::nullopt);
    } else {
      load_errors.push_back(image.status());
    }
  }

  ocr::v1::RecognizeBatchResponse response;
  grpc::Status status;
  double latency_ms = 0;
  if (request.images_size() > 0) {
    grpc::ClientContext context;
    SetTimeout(context, options.call.timeout_ms);
    const Clock::time_point start = Clock::now();
    status = stub.RecognizeBatch(&context, request, &response);
    latency_ms = MillisSince(start);
    if (status.ok() && response.results_size() != request.images_size()) {
      status = grpc::Status(grpc::StatusCode::INTERNAL,
                            "server returned " + std::to_string(response.results_size()) + " results for " +
                                std::to_string(request.images_size()) + " images");
    }
  }

  bool all_ok = true;
  int sent = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    if (load_errors[i].has_value()) {
      printer.Failure(files[i], *load_errors[i]);
      all_ok = false;
      continue;
    }
    if (!status.ok()) {
      printer.Failure(files[i], ToAbslStatus(status));
      all_ok = false;
      continue;
    }
    const ocr::v1::LineResult& line = response.results(sent++);
    if (line.code() != 0) {
      printer.Failure(files[i], absl::Status(static_cast<absl::StatusCode>(line.code()), line.message()));
      all_ok = false;
    } else {
      printer.Success(files[i], line.result(), latency_ms);
    }
  }
  return all_ok;
}

}  // namespace

int RunRecognize(ocr::v1::OcrService::StubInterface& stub, const std::vector<std::string>& files,
                 const RecognizeOptions& options, std::ostream& out, std::ostream& err) {
  if (files.empty()) {
    err << "recognize: no image files given\n";
    return 2;
  }
  Printer printer(options, files.size() > 1, out, err);
  const bool all_ok = options.batch ? RecognizeAsOneBatch(stub, files, options, printer)
                                    : RecognizeOneByOne(stub, files, options, printer);
  return all_ok ? 0 : 1;
}

}  // namespace vocr::client

#include "server/core/ocr_core.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "server/core/preprocess.h"
#include "server/core/status_macros.h"

namespace vocr {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Runs the batch shapes the batcher will use once, so the first real requests
// do not pay for LibTorch's lazy initialisation.
absl::Status WarmUp(const Recognizer& recognizer, const BatcherOptions& options) {
  const InputSpec& spec = recognizer.bundle().manifest().input;
  for (int batch : {1, options.max_batch_size}) {
    std::vector<LineInput> lines(batch, LineInput{torch::zeros({spec.channels, spec.height, 128}), 128});
    std::vector<const LineInput*> inputs;
    for (const auto& l : lines) inputs.push_back(&l);
    BatchTimings timings;
    for (auto& r : recognizer.Read(inputs, [](size_t) { return absl::OkStatus(); }, &timings)) {
      if (!r.ok()) return r.status();
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<OcrCore>> OcrCore::Create(const CoreOptions& options, Metrics* metrics) {
  std::unique_ptr<OcrCore> core(new OcrCore());
  VOCR_ASSIGN_OR_RETURN(std::string dir, ResolveBundleDir(options.model_path, options.model_version));
  VOCR_ASSIGN_OR_RETURN(core->bundle_, Bundle::Load(dir));
  core->recognizer_ = std::make_shared<Recognizer>(core->bundle_);
  VOCR_RETURN_IF_ERROR(WarmUp(*core->recognizer_, options.batcher));
  core->limits_ = options.image_limits;
  core->metrics_ = metrics;
  core->batcher_ = std::make_unique<Batcher>(core->recognizer_, options.batcher, metrics);
  if (metrics) metrics->SetModel(*core->bundle_);
  return core;
}

absl::Status OcrCore::CheckModel(std::string_view name, int64_t version) const {
  const Manifest& m = bundle_->manifest();
  if (!name.empty() && name != m.name) {
    return absl::NotFoundError(absl::StrCat("model '", std::string(name), "' is not served; this server serves '", m.name, "'"));
  }
  if (version != 0 && version != m.version) {
    return absl::NotFoundError(
        absl::StrCat("model '", m.name, "' version ", version, " is not served; version ", m.version, " is"));
  }
  return absl::OkStatus();
}

void OcrCore::Recognize(const ImageSource& image, const CallInfo& call, Done done) {
  LineResult partial;
  auto start = std::chrono::steady_clock::now();
  absl::StatusOr<cv::Mat> mat = image.raw ? RawImage(image.bytes, image.width, image.height, image.channels, limits_)
                                          : DecodeImage(image.bytes, limits_);
  partial.decode_image_ms = SecondsSince(start) * 1000.0;
  if (!mat.ok()) return done(mat.status());
  start = std::chrono::steady_clock::now();
  absl::StatusOr<LineInput> input = Preprocess(*mat, bundle_->manifest().input);
  partial.preprocess_ms = SecondsSince(start) * 1000.0;
  if (!input.ok()) return done(input.status());
  if (metrics_) {
    metrics_->ObserveDecodeImage(partial.decode_image_ms / 1000.0);
    metrics_->ObservePreprocess(partial.preprocess_ms / 1000.0);
  }
  Batcher::Request request;
  request.input = *std::move(input);
  request.deadline = call.deadline;
  request.cancelled = call.cancelled;
  request.done = [partial, done](absl::StatusOr<Reading> reading, const LineTimings& timings) {
    if (!reading.ok()) return done(reading.status());
    LineResult result = partial;
    result.reading = *std::move(reading);
    result.timings = timings;
    done(std::move(result));
  };
  // Submit does not call `done` on failure, so answer here.
  absl::Status queued = batcher_->Submit(std::move(request));
  if (!queued.ok()) done(queued);
}

}  // namespace vocr

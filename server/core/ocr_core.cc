#include "server/core/ocr_core.h"

#include <chrono>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "server/core/long_line.h"
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
    for (auto& r : recognizer.Read(
             inputs, [](size_t) { return absl::OkStatus(); }, &timings)) {
      if (!r.ok()) return r.status();
    }
  }
  return absl::OkStatus();
}

// Collects the readings of a long line's pieces, answers once with the joined
// line when the last piece is read, or with the first error any piece got.
class PieceJoiner {
 public:
  PieceJoiner(std::vector<LineSpan> spans, LineResult partial, OcrCore::Done done)
      : spans_(std::move(spans)),
        readings_(spans_.size()),
        partial_(std::move(partial)),
        done_(std::move(done)),
        remaining_(spans_.size()) {}

  void Add(size_t piece, absl::StatusOr<Reading> reading, const LineTimings& timings) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!reading.ok() && status_.ok()) status_ = reading.status();
    if (reading.ok()) readings_[piece] = *std::move(reading);
    // Pieces usually share a batch, so each figure is that of the slowest piece
    // (adding them up would count one batch several times).
    LineTimings& slowest = partial_.timings;
    slowest.queue_ms = std::max(slowest.queue_ms, timings.queue_ms);
    slowest.batch.cnn_ms = std::max(slowest.batch.cnn_ms, timings.batch.cnn_ms);
    slowest.batch.decoder_ms = std::max(slowest.batch.decoder_ms, timings.batch.decoder_ms);
    slowest.batch.steps = std::max(slowest.batch.steps, timings.batch.steps);
    slowest.batch_size = std::max(slowest.batch_size, timings.batch_size);
    if (--remaining_ > 0) return;
    lock.unlock();
    if (!status_.ok()) return done_(status_);
    LineResult result = std::move(partial_);
    result.reading = JoinReadings(std::move(readings_), spans_);
    done_(std::move(result));
  }

  // None of the pieces was queued.
  void Fail(absl::Status status) { done_(std::move(status)); }

 private:
  const std::vector<LineSpan> spans_;
  std::vector<Reading> readings_;
  LineResult partial_;
  OcrCore::Done done_;
  std::mutex mu_;
  size_t remaining_;
  absl::Status status_;
};

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
    return absl::NotFoundError(
        absl::StrCat("model '", std::string(name), "' is not served; this server serves '", m.name, "'"));
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
  absl::StatusOr<cv::Mat> mat =
      image.raw ? RawImage(image.bytes, image.width, image.height, image.channels, limits_)
                : DecodeImage(image.bytes, limits_);
  partial.decode_image_ms = SecondsSince(start) * 1000.0;
  if (!mat.ok()) return done(mat.status());
  start = std::chrono::steady_clock::now();
  const InputSpec& spec = bundle_->manifest().input;
  absl::StatusOr<cv::Mat> gray = ToGray(*mat);
  if (!gray.ok()) return done(gray.status());
  std::vector<LineSpan> spans = SplitColumns(*gray, spec);
  std::vector<LineInput> pieces = PreprocessPieces(*gray, spans, spec);
  partial.preprocess_ms = SecondsSince(start) * 1000.0;
  if (metrics_) {
    metrics_->ObserveDecodeImage(partial.decode_image_ms / 1000.0);
    metrics_->ObservePreprocess(partial.preprocess_ms / 1000.0);
  }
  // A long line's pieces are queued as lines of their own (all or none, so a
  // full queue refuses the whole line) and batched with anything else.
  auto joiner = std::make_shared<PieceJoiner>(std::move(spans), std::move(partial), std::move(done));
  std::vector<Batcher::Request> requests(pieces.size());
  for (size_t i = 0; i < pieces.size(); ++i) {
    requests[i].input = std::move(pieces[i]);
    requests[i].deadline = call.deadline;
    requests[i].cancelled = call.cancelled;
    requests[i].done = [joiner, i](absl::StatusOr<Reading> reading, const LineTimings& timings) {
      joiner->Add(i, std::move(reading), timings);
    };
  }
  // SubmitAll does not call the requests' `done` on failure, so answer here.
  absl::Status queued = batcher_->SubmitAll(std::move(requests));
  if (!queued.ok()) joiner->Fail(queued);
}

}  // namespace vocr

// The service's core, free of gRPC: holds the served bundle, checks model
// selectors, turns image bytes into queued lines and answers through
// callbacks. The gRPC handlers (server/grpc/) only translate to and from it,
// the split TensorFlow Serving makes between model_servers/ and core/.
#ifndef VOCR_SERVER_CORE_OCR_CORE_H_
#define VOCR_SERVER_CORE_OCR_CORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/core/batcher.h"
#include "server/core/bundle.h"
#include "server/core/image.h"
#include "server/core/metrics.h"
#include "server/core/recognizer.h"

namespace vocr {

struct CoreOptions {
  std::string model_path;  // version directory, or model directory (highest version served)
  int64_t model_version = 0;
  BatcherOptions batcher;
  ImageLimits image_limits;
};

// One image of a request: encoded bytes, or raw pixels with their shape.
struct ImageSource {
  bool raw = false;
  std::string_view bytes;  // encoded file, or raw pixels
  int64_t width = 0, height = 0, channels = 0;
};

struct CallInfo {
  absl::Time deadline = absl::InfiniteFuture();
  std::function<bool()> cancelled;  // may be empty
};

struct LineResult {
  Reading reading;
  LineTimings timings;
  double decode_image_ms = 0;
  double preprocess_ms = 0;
};

class OcrCore {
 public:
  using Done = std::function<void(absl::StatusOr<LineResult>)>;

  // Loads, verifies and warms up the bundle, then starts the batcher.
  static absl::StatusOr<std::unique_ptr<OcrCore>> Create(const CoreOptions& options, Metrics* metrics);

  // OK when (name, version) selects the served model; empty name and 0 match it.
  absl::Status CheckModel(std::string_view name, int64_t version) const;

  // Decodes, preprocesses and queues one line. `done` runs exactly once: at
  // once on a bad image or a full queue, otherwise from a batcher thread.
  void Recognize(const ImageSource& image, const CallInfo& call, Done done);

  const Bundle& bundle() const { return *bundle_; }

  // Stops taking lines and finishes the queued ones.
  void Shutdown() { batcher_->Shutdown(); }

 private:
  OcrCore() = default;
  std::shared_ptr<Bundle> bundle_;
  std::shared_ptr<const Recognizer> recognizer_;
  std::unique_ptr<Batcher> batcher_;
  ImageLimits limits_;
  Metrics* metrics_ = nullptr;
};

}  // namespace vocr

#endif  // VOCR_SERVER_CORE_OCR_CORE_H_

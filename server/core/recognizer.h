// Batched recognition: CNN and encoder on the whole batch, then a greedy
// decoding loop in C++ that stops each line at its end token or length bound
// and drops finished (or abandoned) lines from the batch after every step.
// Mirrors predictor.greedy_decode in model/predictor.py step for step.
#ifndef VOCR_SERVER_CORE_RECOGNIZER_H_
#define VOCR_SERVER_CORE_RECOGNIZER_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/core/bundle.h"
#include "server/core/preprocess.h"

namespace vocr {

struct Reading {
  std::string text;
  double confidence = 0;                // exp(mean log-probability of chosen tokens, end included)
  std::vector<float> char_confidences;  // one per character of `text`
};

struct BatchTimings {
  double cnn_ms = 0;      // CNN forward
  double decoder_ms = 0;  // encoder and the decoding loop
  int steps = 0;          // decoder steps run
};

class Recognizer {
 public:
  explicit Recognizer(std::shared_ptr<Bundle> bundle) : bundle_(std::move(bundle)) {}

  // Reads `lines` as one batch. `still_wanted(i)` is asked before each decoder
  // step; a line for which it returns an error (deadline passed, caller gone)
  // leaves the batch at once and gets that error. An inference failure fails
  // every line of the batch with INTERNAL.
  std::vector<absl::StatusOr<Reading>> Read(const std::vector<const LineInput*>& lines,
                                            const std::function<absl::Status(size_t)>& still_wanted,
                                            BatchTimings* timings) const;

  const Bundle& bundle() const { return *bundle_; }

 private:
  torch::Tensor FeaturesByWidth(const std::vector<const LineInput*>& lines, const InputSpec& spec) const;

  std::shared_ptr<Bundle> bundle_;
};

}  // namespace vocr

#endif  // VOCR_SERVER_CORE_RECOGNIZER_H_

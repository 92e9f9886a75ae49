// Batched recognition: CNN and encoder on a group of lines, then a greedy
// decoding loop in C++ that stops each line at its end token or length bound.
// Lines join the running decode batch between steps (DecodeRun::Join) and
// leave it as soon as they finish or nobody waits for them, so one loop keeps
// decoding while lines come and go. Mirrors predictor.greedy_decode in
// model/predictor.py step for step: rows are independent, so a line reads
// the same whichever lines decode beside it.
#ifndef VOCR_SERVER_CORE_RECOGNIZER_H_
#define VOCR_SERVER_CORE_RECOGNIZER_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/core/bundle.h"
#include "server/core/preprocess.h"
#include "server/core/seq_kernels.h"

namespace vocr {

struct Reading {
  std::string text;
  double confidence = 0;                // exp(mean log-probability of chosen tokens, end included)
  std::vector<float> char_confidences;  // one per character of `text`
};

struct BatchTimings {
  double cnn_ms = 0;      // CNN forward
  double decoder_ms = 0;  // encoder and the decoding loop
  // The same two as the worker thread's own CPU time (stage_clock.h).
  double cnn_cpu_ms = 0, decoder_cpu_ms = 0;
  int steps = 0;        // decoder steps run
  int cnn_threads = 1;  // threads the CNN ran on
};

class Recognizer;

// A decoding loop that lines join between steps and leave when they end. Not
// thread-safe: one per worker thread.
class DecodeRun {
 public:
  struct Ended {
    int64_t id;  // the caller's handle, from Join
    absl::StatusOr<Reading> reading;
  };

  explicit DecodeRun(const Recognizer* recognizer) : recognizer_(recognizer) {}

  // Runs the CNN (on `cnn_threads` threads) and the encoder on `lines`
  // (ids[i] names lines[i]) and adds them to the batch; they decode from the
  // next Step on. Sets timings->cnn_ms, ->cnn_threads and ->decoder_ms (the
  // encoder's time). If inference fails they come back at once with
  // INTERNAL, and the lines already decoding go on.
  std::vector<Ended> Join(const std::vector<const LineInput*>& lines, const std::vector<int64_t>& ids,
                          int cnn_threads, BatchTimings* timings);

  // Drops the rows for which still_wanted(id) fails (they end with that
  // error), then runs one decoder step for the others. Returns the lines that
  // ended. A failing step ends every line with INTERNAL.
  std::vector<Ended> Step(const std::function<absl::Status(int64_t)>& still_wanted);

  size_t rows() const { return rows_.size(); }
  int steps() const { return steps_; }  // decoder steps run so far

 private:
  struct Row {
    int64_t id;
    int64_t length;  // encoder columns
    int limit;       // most steps
    int steps = 0;
    double log_sum = 0;
    Reading reading;
  };
  // Keeps these rows of the batch, in this order.
  void Keep(const std::vector<int64_t>& kept);
  static Ended Finish(Row row);

  const Recognizer* recognizer_;
  SeqBatch state_;
  std::vector<Row> rows_;
  int steps_ = 0;
};

class Recognizer {
 public:
  explicit Recognizer(std::shared_ptr<Bundle> bundle) : bundle_(std::move(bundle)) {}

  // Reads `lines` as one batch, start to end (a DecodeRun nobody joins), the
  // CNN on one thread. `still_wanted(i)` is asked before
  // each decoder step; a line for which it returns an error (deadline passed, caller gone) leaves the batch
  // at once and gets that error. An inference failure fails every line of the batch with INTERNAL.
  std::vector<absl::StatusOr<Reading>> Read(const std::vector<const LineInput*>& lines,
                                            const std::function<absl::Status(size_t)>& still_wanted,
                                            BatchTimings* timings) const;

  const Bundle& bundle() const { return *bundle_; }

 private:
  friend class DecodeRun;
  torch::Tensor FeaturesByWidth(const std::vector<const LineInput*>& lines, const InputSpec& spec) const;

  std::shared_ptr<Bundle> bundle_;
};

}  // namespace vocr

#endif  // VOCR_SERVER_CORE_RECOGNIZER_H_

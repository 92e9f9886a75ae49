#include "server/core/recognizer.h"

#include <ATen/Parallel.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "absl/strings/str_cat.h"
#include "server/core/stage_clock.h"

namespace vocr {

// The CNN runs once per padded width (the manifest's pad_to_multiple), on
// lines padded to it, so a line's features never see another line's pixels
// or a wider padding than its own (the receptive field reaches into the
// padding at a line's right end) and it reads the same alone or batched.
// Columns past a line's own width are zero. Same as
// predictor.features_by_width.
torch::Tensor Recognizer::FeaturesByWidth(const std::vector<const LineInput*>& lines,
                                          const InputSpec& spec) const {
  std::map<int, std::vector<int64_t>> rows_by_width;
  int max_width = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    rows_by_width[PaddedWidth(lines[i]->width, spec)].push_back(static_cast<int64_t>(i));
    max_width = std::max(max_width, lines[i]->width);
  }
  const int64_t columns = max_width / spec.feature_stride;
  torch::Tensor features;
  for (const auto& [width, rows] : rows_by_width) {
    std::vector<const LineInput*> group;
    for (int64_t r : rows) group.push_back(lines[r]);
    torch::Tensor part = bundle_->cnn().forward({PadBatch(group, spec)}).toTensor();
    if (!features.defined()) {
      features = torch::zeros({static_cast<int64_t>(lines.size()), columns, part.size(2)});
    }
    for (size_t i = 0; i < rows.size(); ++i) {
      const int64_t own = std::min(part.size(1), group[i]->width / static_cast<int64_t>(spec.feature_stride));
      features[rows[i]].narrow(0, 0, own).copy_(part[static_cast<int64_t>(i)].narrow(0, 0, own));
    }
  }
  return features;
}

namespace {

// Sets the calling thread's OpenMP thread count for its lifetime. Starts from
// at::get_num_threads(), which first gives the thread LibTorch's setting, so
// LibTorch's own first use in this thread cannot undo the change midway.
class ThreadCount {
 public:
  explicit ThreadCount(int threads) : before_(at::get_num_threads()) {
    if (threads != before_) omp_set_num_threads(std::max(1, threads));
  }
  ~ThreadCount() { omp_set_num_threads(before_); }
  ThreadCount(const ThreadCount&) = delete;
  ThreadCount& operator=(const ThreadCount&) = delete;

 private:
  const int before_;
};

absl::Status InferenceFailed(const std::exception& ex) {
  const std::string what = ex.what();
  return absl::InternalError(absl::StrCat("inference failed: ", what.substr(0, what.find('\n'))));
}

}  // namespace

std::vector<DecodeRun::Ended> DecodeRun::Join(const std::vector<const LineInput*>& lines,
                                              const std::vector<int64_t>& ids, int cnn_threads,
                                              BatchTimings* timings) {
  const Manifest& m = recognizer_->bundle().manifest();
  std::vector<Row> joining;
  std::vector<int64_t> lengths;
  for (size_t i = 0; i < lines.size(); ++i) {
    Row row;
    row.id = ids[i];
    row.length = std::max(1, lines[i]->width / m.input.feature_stride);
    row.limit = std::min<int>(static_cast<int>(row.length) + m.decode.extra_steps, m.decode.max_steps);
    lengths.push_back(row.length);
    joining.push_back(std::move(row));
  }
  if (lines.empty()) return {};
  try {
    torch::NoGradGuard no_grad;
    const StageClock cnn;
    torch::Tensor features;
    {
      // OpenMP's thread count is per calling thread: this worker's CNN alone
      // runs on more threads (LibTorch's and oneDNN's kernels both ask it).
      ThreadCount threads(cnn_threads);
      features = recognizer_->FeaturesByWidth(lines, m.input);
    }
    timings->cnn_ms = cnn.WallMs();
    timings->cnn_cpu_ms = cnn.CpuMs();
    timings->cnn_threads = cnn_threads;
    const StageClock encoder;
    const SeqKernels& kernels = recognizer_->bundle().seq_kernels();
    SeqBatch joined = kernels.Encode(features, torch::tensor(lengths, torch::kInt64), m.vocab.sos);
    if (m.decode.length_bound) {
      const std::vector<int64_t> read = kernels.GreedyLengths(joined, m.vocab.pad);
      for (size_t i = 0; i < joining.size(); ++i) {
        joining[i].limit = std::min(joining[i].limit, m.decode.length_bound->Limit(read[i]));
      }
    }
    state_.Append(joined);
    timings->decoder_ms = encoder.WallMs();
    timings->decoder_cpu_ms = encoder.CpuMs();
  } catch (const std::exception& ex) {
    std::vector<Ended> failed;
    for (const Row& row : joining) failed.push_back({row.id, InferenceFailed(ex)});
    return failed;
  }
  for (Row& row : joining) rows_.push_back(std::move(row));
  return {};
}

void DecodeRun::Keep(const std::vector<int64_t>& kept) {
  if (kept.size() == rows_.size()) return;
  std::vector<Row> rows;
  int64_t columns = 0;
  for (int64_t r : kept) {
    columns = std::max(columns, rows_[r].length);
    rows.push_back(std::move(rows_[r]));
  }
  rows_ = std::move(rows);
  if (rows_.empty()) {
    state_ = SeqBatch{};
  } else {
    state_.Keep(kept, columns);
  }
}

DecodeRun::Ended DecodeRun::Finish(Row row) {
  row.reading.confidence = row.steps ? std::exp(row.log_sum / row.steps) : 0.0;
  return {row.id, std::move(row.reading)};
}

std::vector<DecodeRun::Ended> DecodeRun::Step(const std::function<absl::Status(int64_t)>& still_wanted) {
  std::vector<Ended> ended;
  std::vector<int64_t> wanted;
  for (size_t r = 0; r < rows_.size(); ++r) {
    absl::Status status = still_wanted(rows_[r].id);
    if (status.ok()) {
      wanted.push_back(static_cast<int64_t>(r));
    } else {
      ended.push_back({rows_[r].id, std::move(status)});
    }
  }
  Keep(wanted);
  if (rows_.empty()) return ended;
  const Manifest& m = recognizer_->bundle().manifest();
  try {
    torch::NoGradGuard no_grad;
    auto [best, best_lp] = recognizer_->bundle().seq_kernels().Step(&state_);
    steps_ += 1;
    const float* lp = best_lp.data_ptr<float>();
    const int64_t* token = best.data_ptr<int64_t>();
    std::vector<int64_t> going_on;
    for (size_t r = 0; r < rows_.size(); ++r) {
      Row& row = rows_[r];
      row.log_sum += lp[r];
      row.steps += 1;
      const bool end = token[r] < m.vocab.first_char_id;  // end token (or any special token)
      if (!end) {
        const size_t id = static_cast<size_t>(token[r] - m.vocab.first_char_id);
        if (id < m.vocab.chars.size()) row.reading.text += m.vocab.chars[id];
        row.reading.char_confidences.push_back(static_cast<float>(std::exp(static_cast<double>(lp[r]))));
      }
      if (!end && row.steps < row.limit) {
        going_on.push_back(static_cast<int64_t>(r));
      } else {
        ended.push_back(Finish(std::move(row)));
      }
    }
    Keep(going_on);
  } catch (const std::exception& ex) {
    for (const Row& row : rows_) ended.push_back({row.id, InferenceFailed(ex)});
    rows_.clear();
    state_ = SeqBatch{};
  }
  return ended;
}

std::vector<absl::StatusOr<Reading>> Recognizer::Read(const std::vector<const LineInput*>& lines,
                                                      const std::function<absl::Status(size_t)>& still_wanted,
                                                      BatchTimings* timings) const {
  std::vector<absl::StatusOr<Reading>> results(lines.size(), Reading{});
  std::vector<int64_t> ids(lines.size());
  for (size_t i = 0; i < lines.size(); ++i) ids[i] = static_cast<int64_t>(i);
  DecodeRun run(this);
  std::vector<DecodeRun::Ended> ended = run.Join(lines, ids, /*cnn_threads=*/1, timings);
  const double encoder_ms = timings->decoder_ms, encoder_cpu_ms = timings->decoder_cpu_ms;
  const StageClock decode;
  while (run.rows() > 0) {
    for (auto& e : run.Step([&](int64_t id) { return still_wanted(static_cast<size_t>(id)); })) {
      ended.push_back(std::move(e));
    }
  }
  timings->steps = run.steps();
  timings->decoder_ms = encoder_ms + decode.WallMs();
  timings->decoder_cpu_ms = encoder_cpu_ms + decode.CpuMs();
  for (auto& e : ended) results[static_cast<size_t>(e.id)] = std::move(e.reading);
  return results;
}

}  // namespace vocr

#include "server/core/recognizer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>

#include "absl/strings/str_cat.h"

namespace vocr {
namespace {

double MsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

// The CNN runs once per distinct line width on unpadded pixels, so no line's
// features see another line's padding (the receptive field reaches into it
// at a line's right end and would make a reading depend on its batch-mates).
// Same as predictor.features_by_width.
torch::Tensor Recognizer::FeaturesByWidth(const std::vector<const LineInput*>& lines,
                                          const InputSpec& spec) const {
  std::map<int, std::vector<int64_t>> rows_by_width;
  int max_width = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    rows_by_width[lines[i]->width].push_back(static_cast<int64_t>(i));
    max_width = std::max(max_width, lines[i]->width);
  }
  torch::Tensor features;
  for (const auto& [width, rows] : rows_by_width) {
    std::vector<const LineInput*> group;
    for (int64_t r : rows) group.push_back(lines[r]);
    torch::Tensor part = bundle_->cnn().forward({PadBatch(group, spec)}).toTensor();
    if (!features.defined()) {
      features =
          torch::zeros({static_cast<int64_t>(lines.size()), max_width / spec.feature_stride, part.size(2)});
    }
    features.narrow(1, 0, part.size(1)).index_copy_(0, torch::tensor(rows, torch::kInt64), part);
  }
  return features;
}

std::vector<absl::StatusOr<Reading>> Recognizer::Read(const std::vector<const LineInput*>& lines,
                                                      const std::function<absl::Status(size_t)>& still_wanted,
                                                      BatchTimings* timings) const {
  const Manifest& m = bundle_->manifest();
  const size_t n = lines.size();
  std::vector<absl::StatusOr<Reading>> results(n, Reading{});
  if (n == 0) return results;
  std::vector<double> log_sum(n, 0.0);
  std::vector<int> steps(n, 0), limits(n);
  std::vector<int64_t> lengths(n);
  for (size_t i = 0; i < n; ++i) {
    lengths[i] = std::max(1, lines[i]->width / m.input.feature_stride);
    limits[i] = std::min<int>(lengths[i] + m.decode.extra_steps, m.decode.max_steps);
  }
  try {
    torch::NoGradGuard no_grad;
    auto start = std::chrono::steady_clock::now();
    torch::Tensor features = FeaturesByWidth(lines, m.input);
    timings->cnn_ms = MsSince(start);
    start = std::chrono::steady_clock::now();
    const SeqKernels& seq = bundle_->seq_kernels();
    SeqBatch state = seq.Encode(features, torch::tensor(lengths, torch::kInt64), m.vocab.sos);
    std::vector<size_t> active(n);  // row of `state` -> line
    for (size_t i = 0; i < n; ++i) active[i] = i;
    // Rows whose line leaves: finished, or nobody waits for it any more.
    auto keep_rows = [&](const std::vector<int64_t>& rows) {
      if (rows.size() == active.size()) return;
      state.Keep(rows);
      std::vector<size_t> kept;
      for (int64_t r : rows) kept.push_back(active[r]);
      active = std::move(kept);
    };
    while (!active.empty()) {
      std::vector<int64_t> wanted;
      for (size_t row = 0; row < active.size(); ++row) {
        absl::Status status = still_wanted(active[row]);
        if (status.ok()) {
          wanted.push_back(static_cast<int64_t>(row));
        } else {
          results[active[row]] = status;
        }
      }
      keep_rows(wanted);
      if (active.empty()) break;
      auto [best, best_lp] = seq.Step(&state);
      const float* lp = best_lp.data_ptr<float>();
      const int64_t* token = best.data_ptr<int64_t>();
      std::vector<int64_t> keep;
      for (size_t row = 0; row < active.size(); ++row) {
        const size_t line = active[row];
        log_sum[line] += lp[row];
        steps[line] += 1;
        if (token[row] < m.vocab.first_char_id) continue;  // end token (or any special token)
        const size_t id = static_cast<size_t>(token[row] - m.vocab.first_char_id);
        if (id < m.vocab.chars.size()) results[line]->text += m.vocab.chars[id];
        results[line]->char_confidences.push_back(static_cast<float>(std::exp(static_cast<double>(lp[row]))));
        if (steps[line] < limits[line]) keep.push_back(static_cast<int64_t>(row));
      }
      keep_rows(keep);
      timings->steps += 1;
    }
    timings->decoder_ms = MsSince(start);
  } catch (const std::exception& ex) {
    std::string what = ex.what();
    absl::Status failed =
        absl::InternalError(absl::StrCat("inference failed: ", what.substr(0, what.find('\n'))));
    for (auto& r : results) r = failed;
    return results;
  }
  for (size_t i = 0; i < n; ++i) {
    if (results[i].ok()) results[i]->confidence = steps[i] ? std::exp(log_sum[i] / steps[i]) : 0.0;
  }
  return results;
}

}  // namespace vocr

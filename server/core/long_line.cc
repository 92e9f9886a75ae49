#include "server/core/long_line.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <optional>

namespace vocr {
namespace {

// The (n / 2)-th smallest pixel, as numpy's partition picks it.
int MedianPixel(const cv::Mat& gray) {
  std::array<int64_t, 256> histogram{};
  for (int y = 0; y < gray.rows; ++y) {
    const uint8_t* row = gray.ptr<uint8_t>(y);
    for (int x = 0; x < gray.cols; ++x) ++histogram[row[x]];
  }
  const int64_t rank = static_cast<int64_t>(gray.rows) * gray.cols / 2;
  int64_t seen = 0;
  for (int v = 0; v < 256; ++v) {
    seen += histogram[v];
    if (seen > rank) return v;
  }
  return 255;
}

struct Gap {
  int key = 0;  // distance to the ideal cut, or run length
  int cut = 0;
  int width = 0;  // the whole blank run, beyond the search window too
};

}  // namespace

std::vector<LineSpan> SplitColumns(const cv::Mat& gray, const InputSpec& spec) {
  const int h = gray.rows, w = gray.cols;
  if (static_cast<int64_t>(w) <= static_cast<int64_t>(spec.max_width) * h / spec.height)
    return {{0, w, false}};
  const int limit = static_cast<int>(static_cast<int64_t>(spec.split_width) * h / spec.height);

  const int background = MedianPixel(gray);
  std::vector<int64_t> ink(w, 0);
  for (int y = 0; y < h; ++y) {
    const uint8_t* row = gray.ptr<uint8_t>(y);
    for (int x = 0; x < w; ++x) ink[x] += std::abs(static_cast<int>(row[x]) - background);
  }
  int64_t total = 0;
  for (int64_t v : ink) total += v;
  const int64_t least = *std::min_element(ink.begin(), ink.end()), mean = total / w;
  std::vector<bool> blank(w);
  for (int x = 0; x < w; ++x) blank[x] = 4 * (ink[x] - least) <= mean - least;
  auto is_space = [h](int gap) {
    return 100 * static_cast<int64_t>(gap) >= static_cast<int64_t>(kSpaceGapPercent) * h;
  };

  std::vector<LineSpan> spans;
  int start = 0;
  while (w - start > limit) {
    const int lo = start + limit / 2, hi = start + limit;
    const int ideal =
        start + (w - start) / ((w - start + limit - 1) / limit);  // equal shares of what is left
    std::optional<Gap> word, widest;
    for (int x = lo; x < hi;) {
      if (!blank[x]) {
        ++x;
        continue;
      }
      int end = x;
      while (end < hi && blank[end]) ++end;
      int full_a = x, full_b = end;
      while (full_a > start && blank[full_a - 1]) --full_a;
      while (full_b < w && blank[full_b]) ++full_b;
      const int cut = (x + end) / 2, gap = full_b - full_a;
      if (is_space(gap) && (!word || std::abs(cut - ideal) < word->key))
        word = Gap{std::abs(cut - ideal), cut, gap};
      if (!widest || end - x >= widest->key) widest = Gap{end - x, cut, gap};
      x = end;
    }
    int cut, gap = 0;
    if (const std::optional<Gap>& chosen = word ? word : widest) {
      cut = chosen->cut;
      gap = chosen->width;
    } else {
      cut = static_cast<int>(std::min_element(ink.begin() + lo, ink.begin() + hi) - ink.begin());
    }
    spans.push_back({start, cut, is_space(gap)});
    start = cut;
  }
  spans.push_back({start, w, false});
  return spans;
}

std::vector<LineInput> PreprocessPieces(const cv::Mat& gray, const std::vector<LineSpan>& spans,
                                        const InputSpec& spec) {
  std::vector<LineInput> pieces;
  pieces.reserve(spans.size());
  for (const LineSpan& span : spans) {
    pieces.push_back(PreprocessGray(gray(cv::Range::all(), cv::Range(span.begin, span.end)), spec));
  }
  return pieces;
}

Reading JoinReadings(std::vector<Reading> pieces, const std::vector<LineSpan>& spans) {
  if (pieces.size() == 1) return std::move(pieces[0]);
  Reading joined;
  double log_sum = 0, previous = 1.0;
  int64_t tokens = 0;
  bool space = false;  // a space is owed before the next piece that read something
  for (size_t i = 0; i < pieces.size(); ++i) {
    const Reading& piece = pieces[i];
    space = space || (i > 0 && spans[i - 1].space_after);
    if (!piece.text.empty()) {
      if (space && !joined.text.empty()) {
        joined.text += ' ';
        joined.char_confidences.push_back(static_cast<float>(std::min(previous, piece.confidence)));
      }
      space = false;
      previous = piece.confidence;
    }
    joined.text += piece.text;
    joined.char_confidences.insert(joined.char_confidences.end(), piece.char_confidences.begin(),
                                   piece.char_confidences.end());
    const int64_t n = static_cast<int64_t>(piece.char_confidences.size()) + 1;
    log_sum += static_cast<double>(n) * std::log(std::max(piece.confidence, 1e-30));
    tokens += n;
  }
  joined.confidence = std::exp(log_sum / static_cast<double>(tokens));
  return joined;
}

}  // namespace vocr

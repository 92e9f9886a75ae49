// Lines too wide for the model: cut in blank gaps into pieces the model
// reads well, read like lines of their own, joined again. The rules are
// model/predictor.py's split_columns and join_readings, integer for integer,
// so the server and the reference predictor cut and join identically.
#ifndef VOCR_SERVER_CORE_LONG_LINE_H_
#define VOCR_SERVER_CORE_LONG_LINE_H_

#include <opencv2/core.hpp>
#include <vector>

#include "server/core/manifest.h"
#include "server/core/preprocess.h"
#include "server/core/recognizer.h"

namespace vocr {

// A gap at least this share of the line height wide is a word space.
inline constexpr int kSpaceGapPercent = 15;

// Columns [begin, end) of the source image, and whether a space follows.
struct LineSpan {
  int begin = 0;
  int end = 0;
  bool space_after = false;
};

// One span when the line fits max_width once scaled to the model's height;
// otherwise pieces at most split_width wide (scaled), cut in the middle of
// the word gap nearest each equal share's end (see predictor.split_columns).
std::vector<LineSpan> SplitColumns(const cv::Mat& gray, const InputSpec& spec);

// Each span of `gray` preprocessed as a line of its own (predictor.preprocess_pieces).
std::vector<LineInput> PreprocessPieces(const cv::Mat& gray, const std::vector<LineSpan>& spans,
                                        const InputSpec& spec);

// One reading from the pieces' readings, in order. Confidence: over all
// tokens of all pieces; an inserted space gets the lower confidence of the
// pieces it joins; a space next to a piece that read nothing is kept for the
// next piece that read something.
Reading JoinReadings(std::vector<Reading> pieces, const std::vector<LineSpan>& spans);

}  // namespace vocr

#endif  // VOCR_SERVER_CORE_LONG_LINE_H_

// Image -> normalised model input, exactly as the manifest (and the reference
// predictor, model/predictor.py) says: gray, scaled to the model's height,
// width rounded to the width multiple and clamped, (x/255 - mean) / std.
#ifndef VOCR_SERVER_CORE_PREPROCESS_H_
#define VOCR_SERVER_CORE_PREPROCESS_H_

#include <torch/torch.h>

#include <opencv2/core.hpp>
#include <vector>

#include "absl/status/statusor.h"
#include "server/core/manifest.h"

namespace vocr {

// One preprocessed line: a float tensor [channels, height, width].
struct LineInput {
  torch::Tensor pixels;
  int width = 0;
};

// Width of the line after scaling to the model height (rounded, clamped).
int TargetWidth(int width, int height, const InputSpec& spec);

// Any decoded image (1, 3 or 4 channels) as one 8-bit gray channel, at least 2x2.
absl::StatusOr<cv::Mat> ToGray(const cv::Mat& image);

// A gray line image as the model's input (one piece, squeezed to max_width if wider).
LineInput PreprocessGray(const cv::Mat& gray, const InputSpec& spec);

absl::StatusOr<LineInput> Preprocess(const cv::Mat& image, const InputSpec& spec);

// Stacks lines into [B, C, H, W], padding on the right with pad_value; W is
// the widest line's PaddedWidth.
torch::Tensor PadBatch(const std::vector<const LineInput*>& lines, const InputSpec& spec);

// The width a line of `width` pixels is padded to before the CNN: the next
// multiple of spec.pad_to_multiple.
int PaddedWidth(int width, const InputSpec& spec);

}  // namespace vocr

#endif  // VOCR_SERVER_CORE_PREPROCESS_H_

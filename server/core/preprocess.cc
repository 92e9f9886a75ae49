#include "server/core/preprocess.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "absl/strings/str_cat.h"

namespace vocr {

int TargetWidth(int width, int height, const InputSpec& spec) {
  const double scaled = static_cast<double>(width) * spec.height / height;
  const int rounded = static_cast<int>(std::floor(scaled / spec.width_multiple + 0.5)) * spec.width_multiple;
  return std::max(spec.min_width, std::min(spec.max_width, rounded));
}

absl::StatusOr<cv::Mat> ToGray(const cv::Mat& image) {
  cv::Mat gray;
  switch (image.channels()) {
    case 1:
      gray = image;
      break;
    case 3:
      cv::cvtColor(image, gray, cv::COLOR_BGR2GRAY);
      break;
    case 4:
      cv::cvtColor(image, gray, cv::COLOR_BGRA2GRAY);
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("unsupported image with ", image.channels(), " channels"));
  }
  if (gray.rows < 2 || gray.cols < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("image ", gray.cols, "x", gray.rows, " is too small to hold a text line"));
  }
  return gray;
}

absl::StatusOr<LineInput> Preprocess(const cv::Mat& image, const InputSpec& spec) {
  absl::StatusOr<cv::Mat> gray = ToGray(image);
  if (!gray.ok()) return gray.status();
  return PreprocessGray(*gray, spec);
}

LineInput PreprocessGray(const cv::Mat& gray, const InputSpec& spec) {
  const int width = TargetWidth(gray.cols, gray.rows, spec);
  cv::Mat resized;
  const bool shrinking = gray.rows > spec.height;
  cv::resize(gray, resized, cv::Size(width, spec.height), 0, 0,
             shrinking ? cv::INTER_AREA : cv::INTER_LINEAR);
  // float32 arithmetic in the predictor's order, so both give identical inputs.
  const float scale = 1.0f / 255.0f, mean = spec.mean, std = spec.std;
  torch::Tensor pixels = torch::empty({1, spec.height, width}, torch::kFloat32);
  float* out = pixels.data_ptr<float>();
  for (int y = 0; y < spec.height; ++y) {
    const uint8_t* row = resized.ptr<uint8_t>(y);
    for (int x = 0; x < width; ++x) *out++ = (static_cast<float>(row[x]) * scale - mean) / std;
  }
  return LineInput{pixels, width};
}

int PaddedWidth(int width, const InputSpec& spec) {
  const int multiple = std::max(1, spec.pad_to_multiple);
  return (width + multiple - 1) / multiple * multiple;
}

torch::Tensor PadBatch(const std::vector<const LineInput*>& lines, const InputSpec& spec) {
  int max_width = 0;
  for (const LineInput* line : lines) max_width = std::max(max_width, PaddedWidth(line->width, spec));
  torch::Tensor batch =
      torch::full({static_cast<int64_t>(lines.size()), spec.channels, spec.height, max_width}, spec.pad_value,
                  torch::kFloat32);
  for (size_t i = 0; i < lines.size(); ++i) {
    batch[i].narrow(2, 0, lines[i]->width).copy_(lines[i]->pixels);
  }
  return batch;
}

}  // namespace vocr

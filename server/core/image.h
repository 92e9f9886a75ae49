// Turning request bytes into pixels, safely: dimensions are read from the
// header and checked before any pixel is decoded, truncated files are refused,
// raw pixel buffers must match their declared size.
#ifndef VOCR_SERVER_CORE_IMAGE_H_
#define VOCR_SERVER_CORE_IMAGE_H_

#include <cstdint>
#include <opencv2/core.hpp>
#include <string_view>

#include "absl/status/statusor.h"

namespace vocr {

struct ImageLimits {
  int64_t max_pixels = 16 << 20;  // a text line never needs more; refuses decompression bombs
  int max_side = 16384;
};

struct Dimensions {
  int width = 0;
  int height = 0;
};

// Width and height from a PNG, JPEG, BMP, GIF, WebP or TIFF header, without decoding.
// NotFound for other formats, which DecodeImage then refuses.
absl::StatusOr<Dimensions> PeekDimensions(std::string_view bytes);

// Encoded image -> 8-bit gray, BGR or BGRA Mat. INVALID_ARGUMENT for empty,
// unknown, truncated or undecodable data and for images outside the limits.
absl::StatusOr<cv::Mat> DecodeImage(std::string_view bytes, const ImageLimits& limits);

// Raw 8-bit pixels (rows top to bottom, channels interleaved) -> Mat (a copy).
absl::StatusOr<cv::Mat> RawImage(std::string_view pixels, int64_t width, int64_t height, int64_t channels,
                                 const ImageLimits& limits);

}  // namespace vocr

#endif  // VOCR_SERVER_CORE_IMAGE_H_

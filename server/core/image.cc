#include "server/core/image.h"

#include <opencv2/imgcodecs.hpp>

#include "absl/strings/str_cat.h"
#include "server/core/status_macros.h"

namespace vocr {
namespace {

uint32_t BigEndian(std::string_view b, size_t at, int n) {
  uint32_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(b[at + i]);
  return v;
}

uint32_t LittleEndian(std::string_view b, size_t at, int n) {
  uint32_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(b[at + i]);
  return v;
}

bool StartsWith(std::string_view b, std::string_view prefix) { return b.substr(0, prefix.size()) == prefix; }

constexpr std::string_view kPng("\x89PNG\r\n\x1a\n", 8);

absl::StatusOr<Dimensions> JpegDimensions(std::string_view b) {
  // Walk the marker segments up to the first start-of-frame.
  size_t i = 2;
  while (i + 4 <= b.size()) {
    if (static_cast<unsigned char>(b[i]) != 0xFF)
      return absl::InvalidArgumentError("corrupt JPEG: bad marker");
    const unsigned marker = static_cast<unsigned char>(b[i + 1]);
    if (marker == 0xFF) {  // fill byte
      ++i;
      continue;
    }
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {  // markers without a length
      i += 2;
      continue;
    }
    const uint32_t length = BigEndian(b, i + 2, 2);
    const bool sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (sof) {
      if (i + 9 > b.size()) break;
      return Dimensions{static_cast<int>(BigEndian(b, i + 7, 2)), static_cast<int>(BigEndian(b, i + 5, 2))};
    }
    i += 2 + length;
  }
  return absl::InvalidArgumentError("truncated JPEG: no frame header");
}

absl::StatusOr<Dimensions> WebpDimensions(std::string_view b) {
  if (b.size() < 30) return absl::InvalidArgumentError("truncated WebP header");
  const std::string_view chunk = b.substr(12, 4);
  if (chunk == "VP8X")
    return Dimensions{static_cast<int>(LittleEndian(b, 24, 3) + 1),
                      static_cast<int>(LittleEndian(b, 27, 3) + 1)};
  if (chunk == "VP8L") {
    const uint32_t bits = LittleEndian(b, 21, 4);
    return Dimensions{static_cast<int>((bits & 0x3FFF) + 1), static_cast<int>(((bits >> 14) & 0x3FFF) + 1)};
  }
  if (chunk == "VP8 ") {
    return Dimensions{static_cast<int>(LittleEndian(b, 26, 2) & 0x3FFF),
                      static_cast<int>(LittleEndian(b, 28, 2) & 0x3FFF)};
  }
  return absl::InvalidArgumentError("unknown WebP chunk");
}

absl::StatusOr<Dimensions> TiffDimensions(std::string_view b) {
  if (b.size() < 8) return absl::InvalidArgumentError("truncated TIFF header");
  const bool little = b[0] == 'I';
  auto read = [&](size_t at, int n) { return little ? LittleEndian(b, at, n) : BigEndian(b, at, n); };
  const uint32_t ifd = read(4, 4);
  if (ifd < 8 || ifd > b.size() - 2)
    return absl::InvalidArgumentError("corrupt TIFF: first IFD outside the file");
  const uint32_t entries = read(ifd, 2);
  int64_t width = -1, height = -1;
  for (uint32_t e = 0; e < entries && ifd + 2 + 12 * (e + 1) <= b.size(); ++e) {
    const size_t at = ifd + 2 + 12 * e;
    const uint32_t tag = read(at, 2), type = read(at + 2, 2);
    const uint32_t value = type == 3 ? read(at + 8, 2) : read(at + 8, 4);  // SHORT or LONG
    if (tag == 256) width = value;
    if (tag == 257) height = value;
  }
  if (width < 0 || height < 0)
    return absl::InvalidArgumentError("corrupt TIFF: no image width/length in the first IFD");
  return Dimensions{static_cast<int>(std::min<int64_t>(width, INT32_MAX)),
                    static_cast<int>(std::min<int64_t>(height, INT32_MAX))};
}

absl::Status CheckLimits(int64_t width, int64_t height, const ImageLimits& limits) {
  if (width <= 0 || height <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("image is ", width, "x", height, ": empty"));
  }
  if (width > limits.max_side || height > limits.max_side || width * height > limits.max_pixels) {
    return absl::ResourceExhaustedError(
        absl::StrCat("image is ", width, "x", height, " pixels; the limit is ", limits.max_side,
                     " per side and ", limits.max_pixels, " pixels in all (a text line needs far fewer)"));
  }
  return absl::OkStatus();
}

// Encoders end PNG with an IEND chunk and JPEG with an end-of-image marker;
// libjpeg would otherwise pad a truncated file with gray and call it a
// success. Some writers append bytes after the end, so the marker is looked
// for in the last 4 KiB rather than at the very end.
absl::Status CheckComplete(std::string_view b) {
  const std::string_view tail = b.substr(b.size() > 4096 ? b.size() - 4096 : 0);
  if (StartsWith(b, kPng) && tail.find("IEND") == std::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat("truncated PNG (", b.size(), " bytes, no IEND chunk)"));
  }
  if (StartsWith(b, "\xFF\xD8") && tail.find("\xFF\xD9") == std::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("truncated JPEG (", b.size(), " bytes, no end-of-image marker)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Dimensions> PeekDimensions(std::string_view b) {
  if (StartsWith(b, kPng)) {
    if (b.size() < 24 || b.substr(12, 4) != "IHDR") return absl::InvalidArgumentError("truncated PNG header");
    return Dimensions{static_cast<int>(std::min<uint32_t>(BigEndian(b, 16, 4), INT32_MAX)),
                      static_cast<int>(std::min<uint32_t>(BigEndian(b, 20, 4), INT32_MAX))};
  }
  if (StartsWith(b, "\xFF\xD8")) return JpegDimensions(b);
  if (StartsWith(b, "BM")) {
    if (b.size() < 26) return absl::InvalidArgumentError("truncated BMP header");
    const int32_t h = static_cast<int32_t>(LittleEndian(b, 22, 4));
    return Dimensions{static_cast<int>(static_cast<int32_t>(LittleEndian(b, 18, 4))), h < 0 ? -h : h};
  }
  if (StartsWith(b, "GIF87a") || StartsWith(b, "GIF89a")) {
    if (b.size() < 10) return absl::InvalidArgumentError("truncated GIF header");
    return Dimensions{static_cast<int>(LittleEndian(b, 6, 2)), static_cast<int>(LittleEndian(b, 8, 2))};
  }
  if (StartsWith(b, "RIFF") && b.size() >= 12 && b.substr(8, 4) == "WEBP") return WebpDimensions(b);
  if (StartsWith(b, std::string_view("II*\0", 4)) || StartsWith(b, std::string_view("MM\0*", 4)))
    return TiffDimensions(b);
  if (StartsWith(b, std::string_view("II+\0", 4)) || StartsWith(b, std::string_view("MM\0+", 4))) {
    return absl::InvalidArgumentError("BigTIFF is not supported");
  }
  return absl::NotFoundError("format without a header parser");
}

absl::StatusOr<cv::Mat> DecodeImage(std::string_view bytes, const ImageLimits& limits) {
  if (bytes.empty()) return absl::InvalidArgumentError("empty image: 0 bytes");
  // Only formats whose size can be read before decoding are accepted: for the
  // others OpenCV would allocate whatever a crafted header claims.
  absl::StatusOr<Dimensions> dims = PeekDimensions(bytes);
  if (absl::IsNotFound(dims.status())) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a decodable image (", bytes.size(),
                     " bytes): unknown format; PNG, JPEG, BMP, WebP and TIFF are read"));
  }
  if (!dims.ok()) return dims.status();
  VOCR_RETURN_IF_ERROR(CheckLimits(dims->width, dims->height, limits));
  VOCR_RETURN_IF_ERROR(CheckComplete(bytes));
  cv::Mat image;
  try {
    const cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<char*>(bytes.data()));
    image = cv::imdecode(buffer, cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("not a decodable image: ", e.msg));
  }
  if (image.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a decodable image (", bytes.size(), " bytes; OpenCV could not read it)"));
  }
  VOCR_RETURN_IF_ERROR(CheckLimits(image.cols, image.rows, limits));
  if (image.depth() != CV_8U) {
    // 16-bit or float images: scale to 8 bits by the image's maximum, as the
    // reference predictor does.
    double max_value = 0;
    cv::minMaxLoc(image.reshape(1), nullptr, &max_value);
    cv::Mat scaled;
    cv::convertScaleAbs(image, scaled, 255.0 / std::max(1.0, max_value));
    image = scaled;
  }
  return image;
}

absl::StatusOr<cv::Mat> RawImage(std::string_view pixels, int64_t width, int64_t height, int64_t channels,
                                 const ImageLimits& limits) {
  if (channels != 1 && channels != 3 && channels != 4) {
    return absl::InvalidArgumentError(
        absl::StrCat("raw image has ", channels, " channels; 1, 3 or 4 expected"));
  }
  VOCR_RETURN_IF_ERROR(CheckLimits(width, height, limits));
  const int64_t expected = width * height * channels;
  if (static_cast<int64_t>(pixels.size()) != expected) {
    return absl::InvalidArgumentError(absl::StrCat("raw image: ", pixels.size(), " bytes of pixels, but ",
                                                   width, "x", height, "x", channels, " needs ", expected));
  }
  cv::Mat view(static_cast<int>(height), static_cast<int>(width), CV_8UC(static_cast<int>(channels)),
               const_cast<char*>(pixels.data()));
  return view.clone();
}

}  // namespace vocr

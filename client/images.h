// Turning files on disk into ocr.v1.Image messages.
#ifndef VOCR_CLIENT_IMAGES_H_
#define VOCR_CLIENT_IMAGES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ocr/v1/ocr.pb.h"

namespace vocr::client {

// The whole file; NOT_FOUND if it cannot be opened, DATA_LOSS if reading fails.
absl::StatusOr<std::string> ReadFileBytes(const std::string& path);

// An Image for the file at `path`. By default the file's bytes travel as
// `encoded` and the server decodes them. With `raw`, the client decodes the
// file with OpenCV (8 bits; grayscale stays 1 channel, colour becomes 3-channel
// BGR, alpha is dropped) and sends the pixels as RawImage, to exercise the
// server's raw path. INVALID_ARGUMENT if OpenCV cannot decode it.
absl::StatusOr<ocr::v1::Image> LoadImage(const std::string& path, bool raw);

// Expands directories (recursively, sorted, files whose extension OpenCV
// reads: png, jpg, jpeg, bmp, webp, tif, tiff) and keeps files as given.
// NOT_FOUND for a path that does not exist; INVALID_ARGUMENT when nothing is
// left, since a benchmark over no images cannot run.
absl::StatusOr<std::vector<std::string>> CollectImageFiles(const std::vector<std::string>& paths);

}  // namespace vocr::client

#endif  // VOCR_CLIENT_IMAGES_H_

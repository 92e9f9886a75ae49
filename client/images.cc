#include "client/images.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <sstream>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace vocr::client {
namespace fs = std::filesystem;
namespace {

bool HasImageExtension(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const char* known : {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"}) {
    if (ext == known) return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<std::string> ReadFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat("cannot read ", path));
  return std::move(bytes).str();
}

absl::StatusOr<ocr::v1::Image> LoadImage(const std::string& path, bool raw) {
  absl::StatusOr<std::string> bytes = ReadFileBytes(path);
  if (!bytes.ok()) return bytes.status();
  ocr::v1::Image image;
  if (!raw) {
    image.set_encoded(std::move(*bytes));
    return image;
  }
  const cv::Mat buffer(1, static_cast<int>(bytes->size()), CV_8UC1, bytes->data());
  cv::Mat pixels;
  try {
    pixels = cv::imdecode(buffer, cv::IMREAD_ANYCOLOR);
  } catch (const cv::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("OpenCV cannot decode ", path, ": ", e.what()));
  }
  if (pixels.empty()) return absl::InvalidArgumentError(absl::StrCat("OpenCV cannot decode ", path));
  if (!pixels.isContinuous()) pixels = pixels.clone();
  ocr::v1::RawImage* out = image.mutable_raw();
  out->set_width(pixels.cols);
  out->set_height(pixels.rows);
  out->set_channels(pixels.channels());
  out->set_pixels(pixels.data, pixels.total() * pixels.elemSize());
  return image;
}

absl::StatusOr<std::vector<std::string>> CollectImageFiles(const std::vector<std::string>& paths) {
  std::vector<std::string> files;
  for (const std::string& path : paths) {
    std::error_code error;
    if (fs::is_directory(path, error)) {
      std::vector<std::string> found;
      try {
        for (const auto& entry : fs::recursive_directory_iterator(path)) {
          if (entry.is_regular_file() && HasImageExtension(entry.path()))
            found.push_back(entry.path().string());
        }
      } catch (const fs::filesystem_error& e) {
        return absl::NotFoundError(absl::StrCat("cannot list ", path, ": ", e.what()));
      }
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::exists(path, error)) {
      files.push_back(path);
    } else {
      return absl::NotFoundError(absl::StrCat("no such file or directory: ", path));
    }
  }
  if (files.empty()) return absl::InvalidArgumentError("no image files found");
  return files;
}

}  // namespace vocr::client

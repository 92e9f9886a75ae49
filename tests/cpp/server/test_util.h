// Helpers shared by the core's unit tests: where the tiny bundle and the
// Python reference data are (set by CTest fixtures, see CMakeLists.txt),
// scratch directories, file I/O and small image/line factories.
#ifndef VOCR_TESTS_CPP_SERVER_TEST_UTIL_H_
#define VOCR_TESTS_CPP_SERVER_TEST_UTIL_H_

#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <string>
#include <vector>

#include "server/core/bundle.h"
#include "server/core/preprocess.h"

namespace vocr::testing {

namespace fs = std::filesystem;

// An environment variable, or "" when unset.
inline std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// The tiny bundle's model directory (holding numeric versions), from the
// VOCR_TINY_BUNDLE fixture variable. Tests that need it skip without it.
#define VOCR_REQUIRE_TINY_BUNDLE()                                                                    \
  do {                                                                                                \
    if (::vocr::testing::Env("VOCR_TINY_BUNDLE").empty()) {                                           \
      GTEST_SKIP() << "VOCR_TINY_BUNDLE is not set (run through ctest, which makes the tiny bundle)"; \
    }                                                                                                 \
  } while (0)

// The reference predictor's data (make_reference.py): VOCR_REFERENCE_DIR, or
// where the build's fixture writes it.
inline std::string ReferenceDir() {
  std::string dir = Env("VOCR_REFERENCE_DIR");
#ifdef VOCR_DEFAULT_REFERENCE_DIR
  if (dir.empty()) dir = VOCR_DEFAULT_REFERENCE_DIR;
#endif
  return dir;
}

#define VOCR_REQUIRE_REFERENCE()                                                          \
  do {                                                                                    \
    if (!std::filesystem::exists(std::filesystem::path(::vocr::testing::ReferenceDir()) / \
                                 "reference.json")) {                                     \
      GTEST_SKIP() << "no reference data in '" << ::vocr::testing::ReferenceDir()         \
                   << "' (run through ctest, whose fixture writes it)";                   \
    }                                                                                     \
  } while (0)

// The version directory of the tiny bundle.
inline std::string TinyVersionDir() {
  absl::StatusOr<std::string> dir = ResolveBundleDir(Env("VOCR_TINY_BUNDLE"), 0);
  EXPECT_TRUE(dir.ok()) << dir.status();
  return dir.ok() ? *dir : "";
}

// One thread, like the reference predictor's default, and polite to a busy machine.
inline void UseOneThread() {
  static std::once_flag once;
  std::call_once(once, [] {
    at::set_num_threads(1);
    at::set_num_interop_threads(1);
  });
}

// The tiny bundle, loaded once per test process (loading selects the
// quantized engine, a process-wide setting).
inline std::shared_ptr<Bundle> TinyBundle() {
  UseOneThread();
  static std::shared_ptr<Bundle> bundle = [] {
    absl::StatusOr<std::shared_ptr<Bundle>> b = Bundle::Load(TinyVersionDir());
    EXPECT_TRUE(b.ok()) << b.status();
    return b.ok() ? *b : nullptr;
  }();
  return bundle;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

// A fresh directory under the system temp dir, removed with the object.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (fs::temp_directory_path() / "vocr-test-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const fs::path& path() const { return path_; }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

// Encodes a Mat with OpenCV (".png", ".jpg", ...) into bytes.
inline std::string Encode(const std::string& ext, const cv::Mat& image, const std::vector<int>& params = {}) {
  std::vector<uchar> buffer;
  EXPECT_TRUE(cv::imencode(ext, image, buffer, params)) << "cannot encode " << ext;
  return std::string(buffer.begin(), buffer.end());
}

// A deterministic, non-constant gray image (stripes and a gradient).
inline cv::Mat PatternImage(int width, int height, int seed = 0) {
  cv::Mat image(height, width, CV_8UC1);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      image.at<uint8_t>(y, x) =
          static_cast<uint8_t>((x * 7 + y * 13 + seed * 31 + ((x / 5 + seed) % 3) * 60) % 256);
    }
  }
  return image;
}

}  // namespace vocr::testing

#endif  // VOCR_TESTS_CPP_SERVER_TEST_UTIL_H_

// A fresh temporary directory per test, for image and labels files.
#ifndef VOCR_TESTS_CPP_CLIENT_TEST_FILES_H_
#define VOCR_TESTS_CPP_CLIENT_TEST_FILES_H_

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace vocr::testing {

class TestDir {
 public:
  TestDir() {
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::path(::testing::TempDir()) /
            (std::string("ocr_client_") + info->test_suite_name() + "_" + info->name());
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TestDir() { std::filesystem::remove_all(path_); }

  // Writes `contents` to `name` (subdirectories created) and returns its path.
  std::string Write(const std::string& name, const std::string& contents) const {
    const std::filesystem::path file = path_ / name;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << contents;
    return file.string();
  }

  std::string Path(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace vocr::testing

#endif  // VOCR_TESTS_CPP_CLIENT_TEST_FILES_H_

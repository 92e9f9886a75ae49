// Base fixture of the integration tests: starts vocr_server processes and
// checks that a server still answers a good request.
#ifndef VOCR_TESTS_CPP_INTEGRATION_SERVER_TEST_H_
#define VOCR_TESTS_CPP_INTEGRATION_SERVER_TEST_H_

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "server_process.h"
#include "test_support.h"

namespace vocr::integration {

class ServerTest : public ::testing::Test {
 protected:
  // A server with these flags, or null after a (non-fatal) test failure.
  static std::unique_ptr<ServerProcess> Launch(std::vector<std::string> flags = {}, bool wait_until_serving = true) {
    ServerOptions options;
    options.flags = std::move(flags);
    options.wait_until_serving = wait_until_serving;
    std::string error;
    std::unique_ptr<ServerProcess> server = ServerProcess::Start(options, &error);
    if (!server) ADD_FAILURE() << "vocr_server did not start: " << error;
    return server;
  }

  // Starts server_ and stub_; use as ASSERT_NO_FATAL_FAILURE(StartServer(...)).
  void StartServer(std::vector<std::string> flags = {}, bool wait_until_serving = true) {
    server_ = Launch(std::move(flags), wait_until_serving);
    ASSERT_NE(server_, nullptr);
    stub_ = server_->Stub();
  }

  // The server reads a good line; call it after every bad request.
  static void ExpectServesGoodRequest(ocr::v1::OcrService::Stub* stub, const std::string& after) {
    ocr::v1::RecognizeResponse response;
    const grpc::Status status = Recognize(stub, GoodRequest(), &response);
    EXPECT_TRUE(status.ok()) << "a good request after " << after << " failed: " << status.error_code() << " "
                             << status.error_message();
    EXPECT_GT(response.result().confidence(), 0.0f) << "after " << after;
  }
  void ExpectServesGoodRequest(const std::string& after) { ExpectServesGoodRequest(stub_.get(), after); }

  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<ocr::v1::OcrService::Stub> stub_;
};

}  // namespace vocr::integration

#endif  // VOCR_TESTS_CPP_INTEGRATION_SERVER_TEST_H_

// An in-process stand-in for vocr-serve, for testing the client over a real
// loopback connection. It "reads" an encoded image by echoing its bytes as
// the text, so a test chooses the answer by choosing the file's contents.
#ifndef VOCR_TESTS_CPP_CLIENT_FAKE_OCR_SERVER_H_
#define VOCR_TESTS_CPP_CLIENT_FAKE_OCR_SERVER_H_

#include <grpcpp/server.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "ocr/v1/ocr.grpc.pb.h"

namespace vocr::testing {

// Encoded bytes the fake refuses with INVALID_ARGUMENT, like a real non-image.
inline constexpr char kBadImage[] = "not an image";

class FakeOcrServer {
 public:
  // Listens on a free 127.0.0.1 port; every recognition call sleeps `delay`
  // first, like inference would. Health starts SERVING.
  explicit FakeOcrServer(std::chrono::milliseconds delay = std::chrono::milliseconds(0));
  ~FakeOcrServer();

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  void SetServing(bool serving);

  int recognize_calls() const { return recognize_calls_; }
  int batch_calls() const { return batch_calls_; }
  int calls() const { return recognize_calls_ + batch_calls_; }

 private:
  class Service;
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::atomic<int> recognize_calls_{0};
  std::atomic<int> batch_calls_{0};
};

}  // namespace vocr::testing

#endif  // VOCR_TESTS_CPP_CLIENT_FAKE_OCR_SERVER_H_

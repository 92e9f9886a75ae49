// Helpers of the integration tests: line images and requests, calls with
// deadlines, concurrent calls, a Prometheus scrape over a plain socket and its
// parsing, server reflection through a generic stub.
#ifndef VOCR_TESTS_CPP_INTEGRATION_TEST_SUPPORT_H_
#define VOCR_TESTS_CPP_INTEGRATION_TEST_SUPPORT_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "ocr/v1/ocr.grpc.pb.h"

namespace vocr::integration {

// ---- images -----------------------------------------------------------------

// An 8-bit gray text line: dark glyphs on a light background, `width` x
// `height`; the text depends on `seed`.
cv::Mat TextLine(int width, int height = 32, uint32_t seed = 1);
std::string EncodePng(const cv::Mat& image);
std::string EncodeJpeg(const cv::Mat& image);
// A well-formed PNG file (signature, IHDR, a small IDAT, IEND, valid CRCs)
// whose header claims width x height 8-bit gray pixels.
std::string PngClaiming(uint32_t width, uint32_t height);

ocr::v1::Image EncodedImage(const std::string& bytes);
ocr::v1::Image RawImage(const cv::Mat& image);  // channels from the Mat (1, 3 or 4)
ocr::v1::RecognizeRequest Request(const ocr::v1::Image& image);
// A request the server must answer OK: a PNG text line.
ocr::v1::RecognizeRequest GoodRequest(int width = 160, uint32_t seed = 11);

// Unicode code points in a UTF-8 string.
size_t CodePoints(const std::string& utf8);

// ---- calls ------------------------------------------------------------------

grpc::Status Recognize(ocr::v1::OcrService::Stub* stub, const ocr::v1::RecognizeRequest& request,
                       ocr::v1::RecognizeResponse* response, double timeout_s = 30);

struct CallResult {
  grpc::Status status;
  ocr::v1::RecognizeResponse response;
};
// Sends every request at once (callback API, one channel) and waits for all
// answers, at most timeout_s; calls still open then are cancelled.
std::vector<CallResult> RecognizeConcurrently(ocr::v1::OcrService::Stub* stub,
                                              const std::vector<ocr::v1::RecognizeRequest>& requests,
                                              double timeout_s = 60);

// Concurrent calls started now and collected later (for the drain test).
class PendingCalls {
 public:
  PendingCalls(ocr::v1::OcrService::Stub* stub, const std::vector<ocr::v1::RecognizeRequest>& requests,
               double deadline_s);
  ~PendingCalls();  // cancels what is still open and waits for it
  // Waits up to timeout_s; true when every call has finished.
  bool Wait(double timeout_s);
  // Cancels the calls still open and waits for them (aborts if gRPC does
  // not end them within a minute: their callbacks write into this object).
  void CancelAndWait();
  // Valid once Wait returned true or after CancelAndWait.
  const std::vector<CallResult>& results() const { return results_; }

 private:
  struct State;
  std::shared_ptr<State> state_;
  std::vector<CallResult> results_;
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts_;
  std::vector<ocr::v1::RecognizeRequest> requests_;
};

// ---- metrics ----------------------------------------------------------------

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct Scrape {
  std::string text;  // the body as served
  std::vector<Sample> samples;

  // Samples named `name` whose labels include all of `labels`.
  std::vector<const Sample*> Find(const std::string& name, const std::map<std::string, std::string>& labels = {}) const;
  bool Has(const std::string& name, const std::map<std::string, std::string>& labels = {}) const {
    return !Find(name, labels).empty();
  }
  // Sum of the matching samples; 0 when there are none.
  double Sum(const std::string& name, const std::map<std::string, std::string>& labels = {}) const;
};

// GET http://127.0.0.1:port/metrics over a plain socket; false with *error.
bool ScrapeMetrics(int port, Scrape* scrape, std::string* error, double timeout_s = 5);
// Parses the Prometheus text format (sample lines only).
std::vector<Sample> ParseMetrics(const std::string& text);

// Runs `promtool check metrics` on `text` (stdin); returns its exit code and
// puts its output in *output; -1 when promtool is missing.
int PromtoolCheckMetrics(const std::string& text, std::string* output);

// ---- reflection -------------------------------------------------------------

// One ServerReflectionInfo exchange (grpc.reflection.v1alpha) with a
// hand-encoded request; the service names the server lists.
grpc::Status ListServices(const std::shared_ptr<grpc::Channel>& channel, std::vector<std::string>* services);
// The serialized FileDescriptorProtos the server gives for a symbol.
grpc::Status FileContainingSymbol(const std::shared_ptr<grpc::Channel>& channel, const std::string& symbol,
                                  std::vector<std::string>* file_descriptor_protos);

}  // namespace vocr::integration

#endif  // VOCR_TESTS_CPP_INTEGRATION_TEST_SUPPORT_H_

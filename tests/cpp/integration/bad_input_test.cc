// Bad input (issue 3, item 8): every bad request gets INVALID_ARGUMENT,
// RESOURCE_EXHAUSTED or NOT_FOUND with a message that says what was wrong,
// and the server answers the next good request.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>

#include <opencv2/imgcodecs.hpp>

#include "server_test.h"

namespace vocr::integration {
namespace {

using grpc::StatusCode;

// Peak resident memory of a process in KiB (VmHWM), -1 if unknown.
long PeakRssKib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

// Resets the peak to the current resident size (Linux >= 4.0); false if not allowed.
bool ResetPeakRss(pid_t pid) {
  std::ofstream out("/proc/" + std::to_string(pid) + "/clear_refs");
  out << "5";
  out.flush();
  return static_cast<bool>(out);
}

class BadInputTest : public ServerTest {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(StartServer()); }

  // Sends `request`, expects `code` with `keyword` in the message, then a good request.
  void ExpectRefused(const std::string& what, const ocr::v1::RecognizeRequest& request, StatusCode code,
                     const std::string& keyword) {
    SCOPED_TRACE(what);
    ocr::v1::RecognizeResponse response;
    const grpc::Status status = Recognize(stub_.get(), request, &response);
    EXPECT_EQ(status.error_code(), code) << status.error_message();
    EXPECT_NE(status.error_message().find(keyword), std::string::npos)
        << "message '" << status.error_message() << "' lacks '" << keyword << "'";
    ExpectServesGoodRequest(what);
  }

  // Like ExpectRefused for an image bomb, and the server's peak memory must
  // not grow by `max_growth_mib`: it was refused from its header, not decoded.
  void ExpectBombRefused(const std::string& what, const std::string& bytes, long max_growth_mib) {
    SCOPED_TRACE(what);
    const bool reset = ResetPeakRss(server_->pid());
    const long before = PeakRssKib(server_->pid());
    ocr::v1::RecognizeResponse response;
    const grpc::Status status = Recognize(stub_.get(), Request(EncodedImage(bytes)), &response);
    const long after = PeakRssKib(server_->pid());
    EXPECT_EQ(status.error_code(), StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
    EXPECT_NE(status.error_message().find("limit"), std::string::npos) << status.error_message();
    if (before > 0 && after > 0) {
      EXPECT_LT(after - before, max_growth_mib * 1024)
          << "the server's peak memory grew by " << (after - before) / 1024 << " MiB (peak "
          << (reset ? "reset before the call" : "not resettable") << "): it decoded the image before refusing it";
    }
    ExpectServesGoodRequest(what);
  }
};

TEST_F(BadInputTest, BytesThatAreNoImage) {
  ExpectRefused("no image", Request(EncodedImage("hello, these bytes are not an image at all")),
                StatusCode::INVALID_ARGUMENT, "image");
}

TEST_F(BadInputTest, TruncatedPng) {
  const std::string png = EncodePng(TextLine(200, 32, 2));
  ExpectRefused("truncated PNG", Request(EncodedImage(png.substr(0, png.size() / 2))), StatusCode::INVALID_ARGUMENT,
                "truncated PNG");
}

TEST_F(BadInputTest, PngCutInsideItsHeader) {
  const std::string png = EncodePng(TextLine(200, 32, 2));
  ExpectRefused("PNG cut at 20 bytes", Request(EncodedImage(png.substr(0, 20))), StatusCode::INVALID_ARGUMENT, "PNG");
}

TEST_F(BadInputTest, TruncatedJpeg) {
  const std::string jpeg = EncodeJpeg(TextLine(200, 32, 3));
  ExpectRefused("truncated JPEG", Request(EncodedImage(jpeg.substr(0, jpeg.size() / 2))), StatusCode::INVALID_ARGUMENT,
                "truncated JPEG");
}

TEST_F(BadInputTest, EmptyPayload) {
  ExpectRefused("empty encoded bytes", Request(EncodedImage("")), StatusCode::INVALID_ARGUMENT, "empty");
}

TEST_F(BadInputTest, RequestWithoutAnImage) {
  ExpectRefused("no image field", ocr::v1::RecognizeRequest(), StatusCode::INVALID_ARGUMENT, "image");
}

TEST_F(BadInputTest, OneByOneImage) {
  const cv::Mat dot(1, 1, CV_8UC1, cv::Scalar(0));
  ExpectRefused("1x1 PNG", Request(EncodedImage(EncodePng(dot))), StatusCode::INVALID_ARGUMENT, "1x1");
  ExpectRefused("1x1 raw", Request(RawImage(dot)), StatusCode::INVALID_ARGUMENT, "1x1");
}

TEST_F(BadInputTest, PngHeaderClaiming100000x100000IsRefusedBeforeDecoding) {
  ExpectRefused("PNG claiming 100000x100000", Request(EncodedImage(PngClaiming(100000, 100000))),
                StatusCode::RESOURCE_EXHAUSTED, "100000x100000");
}

TEST_F(BadInputTest, DecompressionBombPngIsRefusedBeforeDecoding) {
  // A real PNG of 4100x4100 blank pixels: ~17 M pixels (over the default
  // 16 Mi limit, 16 MiB decoded) in a few kilobytes.
  const std::string bomb = EncodePng(cv::Mat(4100, 4100, CV_8UC1, cv::Scalar(255)));
  ASSERT_LT(bomb.size(), 200u * 1024);
  ExpectBombRefused("PNG bomb", bomb, 8);

  // The measurement sees a decode: 4000x4000 (just inside the limit) is read.
  if (!ResetPeakRss(server_->pid())) GTEST_SKIP() << "cannot reset the peak RSS to check the measurement";
  const long before = PeakRssKib(server_->pid());
  ocr::v1::RecognizeResponse response;
  const grpc::Status status = Recognize(
      stub_.get(), Request(EncodedImage(EncodePng(cv::Mat(4000, 4000, CV_8UC1, cv::Scalar(255))))), &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_GT(PeakRssKib(server_->pid()) - before, 12 * 1024) << "a 16 MB decode did not show in the peak RSS";
}

TEST_F(BadInputTest, DecompressionBombTiffIsRefusedBeforeDecoding) {
  // TIFF is one of the formats the API promises; 8000x8000 blank pixels
  // (64 M pixels, 4x the limit, 61 MiB decoded) in about 1 MB of LZW.
  std::vector<uchar> encoded;
  ASSERT_TRUE(cv::imencode(".tiff", cv::Mat(8000, 8000, CV_8UC1, cv::Scalar(255)), encoded));
  ASSERT_LT(encoded.size(), 4u << 20);
  ExpectBombRefused("TIFF bomb", std::string(encoded.begin(), encoded.end()), 24);
}

TEST_F(BadInputTest, RawPixelsWhoseLengthDoesNotMatch) {
  ocr::v1::Image image = RawImage(TextLine(100, 32, 4));
  image.mutable_raw()->mutable_pixels()->pop_back();
  ExpectRefused("raw pixels one byte short", Request(image), StatusCode::INVALID_ARGUMENT, "100x32x1 needs 3200");
  image.mutable_raw()->set_channels(3);
  image.mutable_raw()->mutable_pixels()->push_back('\0');
  ExpectRefused("raw pixels declared BGR but gray", Request(image), StatusCode::INVALID_ARGUMENT, "needs 9600");
}

TEST_F(BadInputTest, RawPixelsWithUnsupportedChannelsOrZeroSize) {
  ocr::v1::Image image = RawImage(TextLine(100, 32, 4));
  image.mutable_raw()->set_channels(2);
  ExpectRefused("2 channels", Request(image), StatusCode::INVALID_ARGUMENT, "channels");
  ocr::v1::Image empty;
  empty.mutable_raw()->set_channels(1);
  ExpectRefused("0x0 raw", Request(empty), StatusCode::INVALID_ARGUMENT, "empty");
}

TEST_F(BadInputTest, UnknownModelVersionOrName) {
  ocr::v1::RecognizeRequest request = GoodRequest();
  request.mutable_model()->set_version(42);
  ExpectRefused("unknown version", request, StatusCode::NOT_FOUND, "version 42");
  request = GoodRequest();
  request.mutable_model()->set_name("no_such_model");
  ExpectRefused("unknown name", request, StatusCode::NOT_FOUND, "no_such_model");
}

TEST_F(BadInputTest, BadItemsOfABatchCarryTheirOwnCodeAndMessage) {
  const std::string png = EncodePng(TextLine(160, 32, 8));
  ocr::v1::Image short_raw = RawImage(TextLine(100, 32, 4));
  short_raw.mutable_raw()->mutable_pixels()->pop_back();
  ocr::v1::RecognizeBatchRequest request;
  *request.add_images() = EncodedImage(png.substr(0, png.size() - 30));  // truncated
  *request.add_images() = EncodedImage(PngClaiming(100000, 100000));
  *request.add_images() = EncodedImage(png);
  *request.add_images() = short_raw;
  *request.add_images() = EncodedImage("");
  ocr::v1::RecognizeBatchResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  const grpc::Status status = stub_->RecognizeBatch(&context, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.results_size(), 5);
  const std::vector<std::pair<StatusCode, std::string>> expected = {
      {StatusCode::INVALID_ARGUMENT, "truncated PNG"},
      {StatusCode::RESOURCE_EXHAUSTED, "100000x100000"},
      {StatusCode::OK, ""},
      {StatusCode::INVALID_ARGUMENT, "needs 3200"},
      {StatusCode::INVALID_ARGUMENT, "empty"}};
  for (int i = 0; i < 5; ++i) {
    SCOPED_TRACE("item " + std::to_string(i));
    EXPECT_EQ(response.results(i).code(), static_cast<int>(expected[i].first)) << response.results(i).message();
    EXPECT_NE(response.results(i).message().find(expected[i].second), std::string::npos)
        << response.results(i).message();
    EXPECT_EQ(response.results(i).has_result(), expected[i].first == StatusCode::OK);
  }
  ExpectServesGoodRequest("a batch of bad items");
}

// A server whose message limit is 1 MiB.
class OversizeMessageTest : public ServerTest {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(StartServer({"--max_message_mb=1"})); }
};

TEST_F(OversizeMessageTest, MessageOverTheLimitIsResourceExhausted) {
  std::string big(2 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 2654435761u) >> 13);
  ocr::v1::RecognizeResponse response;
  const grpc::Status status = Recognize(stub_.get(), Request(EncodedImage(big)), &response);
  EXPECT_EQ(status.error_code(), StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  EXPECT_NE(status.error_message().find("larger than max"), std::string::npos) << status.error_message();
  ExpectServesGoodRequest("a 2 MiB message");
  // A message just under the limit is read (and refused only as no image).
  const grpc::Status under = Recognize(stub_.get(), Request(EncodedImage(big.substr(0, 1000 * 1000))), &response);
  EXPECT_EQ(under.error_code(), StatusCode::INVALID_ARGUMENT) << under.error_message();
}

}  // namespace
}  // namespace vocr::integration

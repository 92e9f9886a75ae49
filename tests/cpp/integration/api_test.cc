// The public API against the real server on the tiny (untrained) bundle:
// Recognize, RecognizeBatch, GetModelInfo, health and reflection. The tiny
// bundle reads nonsense, so the tests check codes, shapes and consistency,
// never the text itself.
#include <google/protobuf/descriptor.pb.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <thread>

#include "server_test.h"

namespace vocr::integration {
namespace {

using grpc::StatusCode;
using grpc::health::v1::HealthCheckResponse;

class ApiTest : public ServerTest {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(StartServer()); }
};

void ExpectWellFormed(const ocr::v1::Recognition& r, const std::string& what) {
  SCOPED_TRACE(what);
  EXPECT_GT(r.confidence(), 0.0f);
  EXPECT_LE(r.confidence(), 1.0f);
  EXPECT_EQ(static_cast<size_t>(r.char_confidences_size()), CodePoints(r.text()))
      << "text '" << r.text() << "'";
  for (float c : r.char_confidences()) {
    EXPECT_GT(c, 0.0f);
    EXPECT_LE(c, 1.0f);
  }
  const ocr::v1::Timings& t = r.timings();
  EXPECT_GT(t.total_ms(), 0.0);
  EXPECT_GE(t.batch_size(), 1u);
  EXPECT_GE(t.queue_ms(), 0.0);
  EXPECT_GE(t.decode_image_ms(), 0.0);
  EXPECT_GE(t.preprocess_ms(), 0.0);
  EXPECT_GT(t.cnn_ms(), 0.0);
  EXPECT_GT(t.decoder_ms(), 0.0);
  EXPECT_LE(t.cnn_ms() + t.decoder_ms(), t.total_ms() + 1e-6);
}

TEST_F(ApiTest, RecognizeReturnsTextConfidencesTimingsAndModel) {
  ocr::v1::RecognizeResponse response;
  const grpc::Status status = Recognize(stub_.get(), GoodRequest(240, 3), &response);
  ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
  ASSERT_TRUE(response.has_result());
  ExpectWellFormed(response.result(), "PNG line");
  EXPECT_EQ(response.model().name(), "vocr_line");
  EXPECT_EQ(response.model().version(), 1);
}

TEST_F(ApiTest, EveryPromisedEncodingIsRead) {
  // PNG, JPEG, BMP, WebP and TIFF (the SPEC's list), gray and colour.
  const cv::Mat gray = TextLine(220, 32, 6);
  cv::Mat bgr;
  cv::cvtColor(gray, bgr, cv::COLOR_GRAY2BGR);
  for (const char* ext : {".png", ".jpg", ".bmp", ".webp", ".tiff"}) {
    for (const cv::Mat* image : std::initializer_list<const cv::Mat*>{&gray, &bgr}) {
      const std::string what = std::string(ext) + (image == &gray ? " gray" : " BGR");
      std::vector<uchar> bytes;
      ASSERT_TRUE(cv::imencode(ext, *image, bytes)) << "this OpenCV cannot write " << what;
      ocr::v1::RecognizeResponse response;
      const grpc::Status status =
          Recognize(stub_.get(), Request(EncodedImage(std::string(bytes.begin(), bytes.end()))), &response);
      EXPECT_TRUE(status.ok()) << what << ": " << status.error_code() << " " << status.error_message();
      if (status.ok()) ExpectWellFormed(response.result(), what);
    }
  }
}

TEST_F(ApiTest, RecognizeAcceptsTheModelItServesByNameAndVersion) {
  ocr::v1::RecognizeRequest request = GoodRequest();
  request.mutable_model()->set_name("vocr_line");
  request.mutable_model()->set_version(1);
  ocr::v1::RecognizeResponse response;
  const grpc::Status status = Recognize(stub_.get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
  EXPECT_EQ(response.model().version(), 1);
}

TEST_F(ApiTest, RawGrayBgrAndBgraPixelsReadLikeThePng) {
  const cv::Mat gray = TextLine(200, 32, 5);
  cv::Mat bgr, bgra;
  cv::cvtColor(gray, bgr, cv::COLOR_GRAY2BGR);
  cv::cvtColor(gray, bgra, cv::COLOR_GRAY2BGRA);
  // One call at a time: each line is read alone (batch of 1), so all four
  // inputs, which turn into the same gray pixels, give the same reading.
  ocr::v1::RecognizeResponse png;
  ASSERT_TRUE(Recognize(stub_.get(), Request(EncodedImage(EncodePng(gray))), &png).ok());
  ExpectWellFormed(png.result(), "PNG");
  const std::vector<std::pair<std::string, cv::Mat>> raws = {
      {"raw gray", gray}, {"raw BGR", bgr}, {"raw BGRA", bgra}};
  for (const auto& [what, mat] : raws) {
    ocr::v1::RecognizeResponse response;
    const grpc::Status status = Recognize(stub_.get(), Request(RawImage(mat)), &response);
    ASSERT_TRUE(status.ok()) << what << ": " << status.error_code() << " " << status.error_message();
    ExpectWellFormed(response.result(), what);
    EXPECT_EQ(response.result().text(), png.result().text()) << what;
    EXPECT_NEAR(response.result().confidence(), png.result().confidence(), 1e-5) << what;
  }
}

TEST_F(ApiTest, RecognizeBatchAnswersEachItemInOrder) {
  ocr::v1::RecognizeBatchRequest request;
  *request.add_images() = EncodedImage(EncodePng(TextLine(180, 32, 21)));
  *request.add_images() = EncodedImage("\x01\x02 these bytes are no image \xff\xfe");
  *request.add_images() = RawImage(TextLine(300, 40, 22));
  ocr::v1::RecognizeBatchResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  const grpc::Status status = stub_->RecognizeBatch(&context, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
  ASSERT_EQ(response.results_size(), 3);
  EXPECT_EQ(response.results(0).code(), static_cast<int>(StatusCode::OK)) << response.results(0).message();
  EXPECT_EQ(response.results(1).code(), static_cast<int>(StatusCode::INVALID_ARGUMENT));
  EXPECT_EQ(response.results(2).code(), static_cast<int>(StatusCode::OK)) << response.results(2).message();
  EXPECT_NE(response.results(1).message().find("image"), std::string::npos) << response.results(1).message();
  EXPECT_FALSE(response.results(1).has_result());
  ExpectWellFormed(response.results(0).result(), "item 0");
  ExpectWellFormed(response.results(2).result(), "item 2");
  EXPECT_TRUE(response.results(0).message().empty());
  EXPECT_EQ(response.model().name(), "vocr_line");
  EXPECT_EQ(response.model().version(), 1);
}

TEST_F(ApiTest, RecognizeBatchItemsMatchSingleCalls) {
  // Lines whose model widths (100 -> 104, 190 -> 192, 280, 370 -> 368 at
  // height 32) fall in different buckets of the default 64 pixels; with
  // --fill_from_other_buckets they may share a batch (the CNN per padded
  // width, the decoder together). Each item must carry the reading of its
  // own image, exactly as a single call reads it.
  std::vector<cv::Mat> lines;
  for (int i = 0; i < 4; ++i) lines.push_back(TextLine(100 + 90 * i, 32, 40 + i));
  ocr::v1::RecognizeBatchRequest request;
  for (const cv::Mat& line : lines) *request.add_images() = EncodedImage(EncodePng(line));
  ocr::v1::RecognizeBatchResponse batch;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  ASSERT_TRUE(stub_->RecognizeBatch(&context, request, &batch).ok());
  ASSERT_EQ(batch.results_size(), 4);
  for (int i = 0; i < 4; ++i) {
    ocr::v1::RecognizeResponse single;
    ASSERT_TRUE(Recognize(stub_.get(), Request(EncodedImage(EncodePng(lines[i]))), &single).ok());
    ASSERT_EQ(batch.results(i).code(), 0) << batch.results(i).message();
    EXPECT_EQ(CodePoints(batch.results(i).result().text()),
              static_cast<size_t>(batch.results(i).result().char_confidences_size()));
    EXPECT_GE(batch.results(i).result().timings().batch_size(), 1u) << "item " << i;
    EXPECT_EQ(batch.results(i).result().text(), single.result().text()) << "item " << i;
    EXPECT_NEAR(batch.results(i).result().confidence(), single.result().confidence(), 1e-5) << "item " << i;
  }
}

TEST_F(ApiTest, RecognizeBatchWithoutImagesIsInvalidArgument) {
  ocr::v1::RecognizeBatchRequest request;
  ocr::v1::RecognizeBatchResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  const grpc::Status status = stub_->RecognizeBatch(&context, request, &response);
  EXPECT_EQ(status.error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("image"), std::string::npos) << status.error_message();
  ExpectServesGoodRequest("an empty RecognizeBatch");
}

TEST_F(ApiTest, GetModelInfoDescribesTheServedBundle) {
  ocr::v1::GetModelInfoRequest request;
  ocr::v1::ModelInfo info;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  const grpc::Status status = stub_->GetModelInfo(&context, request, &info);
  ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
  EXPECT_EQ(info.name(), "vocr_line");
  EXPECT_EQ(info.version(), 1);
  EXPECT_EQ(info.engine(), "onednn");
  EXPECT_EQ(info.vocab_size(), 232u);
  EXPECT_FALSE(info.created().empty());
  EXPECT_GT(info.load_seconds(), 0.0);
  EXPECT_FALSE(info.evaluation_json().empty());
  ASSERT_EQ(info.parts_size(), 2);
  std::vector<std::string> names;
  for (const ocr::v1::ModelPart& part : info.parts()) {
    SCOPED_TRACE(part.name());
    names.push_back(part.name());
    EXPECT_GT(part.bytes(), 0);
    EXPECT_GT(part.fp32_reference_bytes(), part.bytes())
        << "int8 file should be smaller than its fp32 reference";
    EXPECT_GT(part.parameters(), 0);
    EXPECT_FALSE(part.file().empty());
    EXPECT_NE(part.quantization().find("int8"), std::string::npos) << part.quantization();
    EXPECT_EQ(part.sha256().size(), 64u);
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"cnn", "seq"}));
  EXPECT_EQ(info.input().height(), 32u);
  EXPECT_EQ(info.input().channels(), 1u);
  EXPECT_GT(info.input().max_width(), info.input().min_width());
  EXPECT_GT(info.input().width_multiple(), 0u);
  EXPECT_GT(info.input().std(), 0.0f);
}

TEST_F(ApiTest, UnknownModelVersionIsNotFoundOnEveryMethod) {
  ocr::v1::ModelSpec unknown;
  unknown.set_version(7);
  {
    ocr::v1::RecognizeRequest request = GoodRequest();
    *request.mutable_model() = unknown;
    ocr::v1::RecognizeResponse response;
    const grpc::Status status = Recognize(stub_.get(), request, &response);
    EXPECT_EQ(status.error_code(), StatusCode::NOT_FOUND) << status.error_message();
    EXPECT_NE(status.error_message().find("version 7"), std::string::npos) << status.error_message();
  }
  {
    ocr::v1::RecognizeBatchRequest request;
    *request.add_images() = GoodRequest().image();
    *request.mutable_model() = unknown;
    ocr::v1::RecognizeBatchResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    const grpc::Status status = stub_->RecognizeBatch(&context, request, &response);
    EXPECT_EQ(status.error_code(), StatusCode::NOT_FOUND) << status.error_message();
    EXPECT_NE(status.error_message().find("version 7"), std::string::npos) << status.error_message();
  }
  {
    ocr::v1::GetModelInfoRequest request;
    *request.mutable_model() = unknown;
    ocr::v1::ModelInfo info;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    const grpc::Status status = stub_->GetModelInfo(&context, request, &info);
    EXPECT_EQ(status.error_code(), StatusCode::NOT_FOUND) << status.error_message();
    EXPECT_NE(status.error_message().find("version 7"), std::string::npos) << status.error_message();
  }
  ExpectServesGoodRequest("unknown model versions");
}

TEST_F(ApiTest, ReflectionListsTheOcrServiceAndItsMethods) {
  std::vector<std::string> services;
  const grpc::Status status = ListServices(server_->channel(), &services);
  ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
  EXPECT_NE(std::find(services.begin(), services.end(), "ocr.v1.OcrService"), services.end())
      << ::testing::PrintToString(services);
  EXPECT_NE(std::find(services.begin(), services.end(), "grpc.health.v1.Health"), services.end())
      << ::testing::PrintToString(services);

  std::vector<std::string> files;
  ASSERT_TRUE(FileContainingSymbol(server_->channel(), "ocr.v1.OcrService", &files).ok());
  bool found = false;
  for (const std::string& bytes : files) {
    google::protobuf::FileDescriptorProto file;
    ASSERT_TRUE(file.ParseFromString(bytes));
    if (file.package() != "ocr.v1") continue;
    for (const auto& service : file.service()) {
      if (service.name() != "OcrService") continue;
      found = true;
      std::vector<std::string> methods;
      for (const auto& m : service.method()) methods.push_back(m.name());
      EXPECT_EQ(methods, (std::vector<std::string>{"Recognize", "RecognizeBatch", "GetModelInfo"}));
    }
  }
  EXPECT_TRUE(found) << "no ocr.v1 file with OcrService among " << files.size() << " descriptor(s)";
}

// ---- health ----------------------------------------------------------------

class HealthTest : public ServerTest {};

TEST_F(HealthTest, ServingAfterStart) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  ServingStatus status = HealthCheckResponse::UNKNOWN;
  const grpc::Status s = server_->CheckHealth("", &status);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(status, HealthCheckResponse::SERVING);
}

TEST_F(HealthTest, NotServingUntilTheModelIsWarm) {
  // Warm-up runs a batch of --max_batch_size lines, so a huge maximum keeps
  // the server in its loading phase for a few seconds, long enough to look.
  ASSERT_NO_FATAL_FAILURE(StartServer({"--max_batch_size=2048"}, /*wait_until_serving=*/false));
  ServingStatus status = HealthCheckResponse::UNKNOWN;
  const grpc::Status s = server_->CheckHealth("", &status, 5.0);
  ASSERT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
  if (status == HealthCheckResponse::SERVING)
    GTEST_SKIP() << "the model was warm before the first health check";
  EXPECT_EQ(status, HealthCheckResponse::NOT_SERVING);
  // Liveness (what a Kubernetes liveness probe asks) is SERVING while loading.
  ServingStatus alive = HealthCheckResponse::UNKNOWN;
  ASSERT_TRUE(server_->CheckHealth("liveness", &alive, 5.0).ok());
  EXPECT_EQ(alive, HealthCheckResponse::SERVING);
  // A call meanwhile is refused as unavailable (retryable), not failed.
  ocr::v1::RecognizeResponse response;
  const grpc::Status early = Recognize(stub_.get(), GoodRequest(), &response, 5);
  if (early.ok()) {
    // The model finished warming between the two calls: then health agrees.
    EXPECT_TRUE(server_->CheckHealth("", &status).ok());
    EXPECT_EQ(status, HealthCheckResponse::SERVING);
  } else {
    EXPECT_EQ(early.error_code(), StatusCode::UNAVAILABLE) << early.error_message();
    EXPECT_NE(early.error_message().find("loading"), std::string::npos) << early.error_message();
  }
  std::string error;
  ASSERT_TRUE(server_->WaitUntilServing(120, &error)) << error;
  ExpectServesGoodRequest("warm-up");
}

TEST_F(HealthTest, BrokenBundleStopsStartUpNamingThePath) {
  ServerOptions options;
  const std::string missing = ModelPath() + "-does-not-exist";
  options.flags = {"--model_path=" + missing};
  options.wait_until_serving = false;
  std::string error;
  std::unique_ptr<ServerProcess> server = ServerProcess::Start(options, &error);
  if (server == nullptr) {
    // It may exit before or after writing the port file.
    EXPECT_NE(error.find("does-not-exist"), std::string::npos) << error;
    return;
  }
  int wait_status = 0;
  ASSERT_TRUE(server->WaitForExit(60, &wait_status)) << "the server kept running on a missing bundle";
  EXPECT_TRUE(WIFEXITED(wait_status) && WEXITSTATUS(wait_status) != 0) << "wait status " << wait_status;
  EXPECT_NE(server->Log().find("does-not-exist"), std::string::npos) << server->Log();
}

// ---- configuration ---------------------------------------------------------

class ConfigTest : public ServerTest {
 protected:
  // Recognize on 2 MiB of non-image bytes: RESOURCE_EXHAUSTED over a 1 MiB
  // message limit, INVALID_ARGUMENT (read, then refused) under a larger one.
  static grpc::StatusCode TwoMebibyteCall(ServerProcess* server) {
    ocr::v1::RecognizeResponse response;
    return Recognize(server->Stub().get(), Request(EncodedImage(std::string(2 << 20, 'x'))), &response)
        .error_code();
  }
};

TEST_F(ConfigTest, FlagsComeFromTheEnvironmentAndTheCommandLineWins) {
  ServerOptions from_env;
  from_env.env = {"VOCR_MAX_MESSAGE_MB=1"};
  std::string error;
  std::unique_ptr<ServerProcess> limited = ServerProcess::Start(from_env, &error);
  ASSERT_NE(limited, nullptr) << error;
  EXPECT_EQ(TwoMebibyteCall(limited.get()), StatusCode::RESOURCE_EXHAUSTED)
      << "VOCR_MAX_MESSAGE_MB=1 was ignored";

  ServerOptions both = from_env;
  both.flags = {"--max_message_mb=4"};
  std::unique_ptr<ServerProcess> overridden = ServerProcess::Start(both, &error);
  ASSERT_NE(overridden, nullptr) << error;
  EXPECT_EQ(TwoMebibyteCall(overridden.get()), StatusCode::INVALID_ARGUMENT)
      << "--max_message_mb=4 did not win";
}

TEST_F(ConfigTest, BadEnvironmentValueStopsStartUpNamingTheVariable) {
  ServerOptions options;
  options.env = {"VOCR_MAX_BATCH_SIZE=lots"};
  options.wait_until_serving = false;
  options.start_timeout_s = 30;
  std::string error;
  std::unique_ptr<ServerProcess> server = ServerProcess::Start(options, &error);
  // Flags are checked before the server listens, so no port file appears.
  ASSERT_EQ(server, nullptr) << "the server started with VOCR_MAX_BATCH_SIZE=lots";
  EXPECT_NE(error.find("VOCR_MAX_BATCH_SIZE"), std::string::npos) << error;
  EXPECT_NE(error.find("exited"), std::string::npos) << error;
}

}  // namespace
}  // namespace vocr::integration

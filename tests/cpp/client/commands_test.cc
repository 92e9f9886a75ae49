// recognize, info, health and eval against the fake server.
#include <grpcpp/create_channel.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <sstream>

#include "absl/strings/str_split.h"
#include "client/eval_cmd.h"
#include "client/health_cmd.h"
#include "client/info_cmd.h"
#include "client/recognize_cmd.h"
#include "fake_ocr_server.h"
#include "test_files.h"

namespace vocr::client {
namespace {

using vocr::testing::FakeOcrServer;
using vocr::testing::kBadImage;
using vocr::testing::TestDir;

std::shared_ptr<grpc::Channel> Connect(const std::string& address) {
  return grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
}

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

class CommandsTest : public ::testing::Test {
 protected:
  FakeOcrServer server_;
  ocr::v1::OcrService::Stub stub_{Connect(server_.address())};
  TestDir dir_;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(CommandsTest, RecognizePrintsJustTheTextForOneFile) {
  const std::string file = dir_.Write("a.png", "Việt Nam");
  EXPECT_EQ(RunRecognize(stub_, {file}, {}, out_, err_), 0) << err_.str();
  EXPECT_EQ(out_.str(), "Việt Nam\n");
  EXPECT_EQ(err_.str(), "");
}

TEST_F(CommandsTest, RecognizePrintsFileTabTextForSeveralFiles) {
  const std::string a = dir_.Write("a.png", "một");
  const std::string b = dir_.Write("b.png", "hai");
  EXPECT_EQ(RunRecognize(stub_, {a, b}, {}, out_, err_), 0) << err_.str();
  EXPECT_EQ(out_.str(), a + "\tmột\n" + b + "\thai\n");
}

TEST_F(CommandsTest, RecognizeFailsWhenAnyFileFailsAndNamesTheFileAndCode) {
  const std::string good = dir_.Write("good.png", "tốt");
  const std::string bad = dir_.Write("bad.png", kBadImage);
  const std::string missing = dir_.Path("missing.png");
  EXPECT_EQ(RunRecognize(stub_, {good, bad, missing}, {}, out_, err_), 1);
  EXPECT_EQ(out_.str(), good + "\ttốt\n");
  const std::vector<std::string> errors = Lines(err_.str());
  ASSERT_EQ(errors.size(), 2u) << err_.str();
  EXPECT_EQ(errors[0], bad + ": INVALID_ARGUMENT: not a decodable image");
  EXPECT_EQ(errors[1].rfind(missing + ": NOT_FOUND: ", 0), 0u) << errors[1];
}

TEST_F(CommandsTest, RecognizeJsonHasConfidencesTimingsAndErrors) {
  const std::string good = dir_.Write("good.png", "Hà Nội");
  const std::string bad = dir_.Write("bad.png", kBadImage);
  RecognizeOptions options;
  options.json = true;
  EXPECT_EQ(RunRecognize(stub_, {good, bad}, options, out_, err_), 1);
  const std::vector<std::string> lines = Lines(out_.str());
  ASSERT_EQ(lines.size(), 2u);
  const nlohmann::ordered_json ok = nlohmann::ordered_json::parse(lines[0]);
  EXPECT_EQ(ok["file"], good);
  EXPECT_EQ(ok["text"], "Hà Nội");
  EXPECT_EQ(ok["confidence"], 0.875);
  EXPECT_EQ(ok["char_confidences"].size(), 6u);  // one per code point, not per byte
  EXPECT_EQ(ok["timings"]["total_ms"], 1.25);
  EXPECT_TRUE(ok.contains("latency_ms"));
  const nlohmann::ordered_json failed = nlohmann::ordered_json::parse(lines[1]);
  EXPECT_EQ(failed["code"], "INVALID_ARGUMENT");
  EXPECT_EQ(failed["message"], "not a decodable image");
}

TEST_F(CommandsTest, RecognizeBatchSendsOneCallWithPerFileOutcomes) {
  const std::string a = dir_.Write("a.png", "một");
  const std::string bad = dir_.Write("bad.png", kBadImage);
  const std::string b = dir_.Write("b.png", "hai");
  RecognizeOptions options;
  options.batch = true;
  EXPECT_EQ(RunRecognize(stub_, {a, bad, b}, options, out_, err_), 1);
  EXPECT_EQ(server_.batch_calls(), 1);
  EXPECT_EQ(server_.recognize_calls(), 0);
  EXPECT_EQ(out_.str(), a + "\tmột\n" + b + "\thai\n");
  EXPECT_EQ(err_.str(), bad + ": INVALID_ARGUMENT: not a decodable image\n");
}

TEST_F(CommandsTest, RecognizeRawSendsDecodedPixels) {
  const std::string file = dir_.Path("gray.png");
  ASSERT_TRUE(cv::imwrite(file, cv::Mat(3, 7, CV_8UC1, cv::Scalar(128))));
  const std::string colour = dir_.Path("colour.png");
  ASSERT_TRUE(cv::imwrite(colour, cv::Mat(2, 5, CV_8UC3, cv::Scalar(1, 2, 3))));
  RecognizeOptions options;
  options.raw = true;
  EXPECT_EQ(RunRecognize(stub_, {file, colour}, options, out_, err_), 0) << err_.str();
  EXPECT_EQ(out_.str(), file + "\traw 7x3x1\n" + colour + "\traw 5x2x3\n");
}

TEST_F(CommandsTest, RecognizeRawRefusesAFileOpenCvCannotDecode) {
  const std::string file = dir_.Write("junk.png", "junk");
  RecognizeOptions options;
  options.raw = true;
  EXPECT_EQ(RunRecognize(stub_, {file}, options, out_, err_), 1);
  EXPECT_EQ(err_.str().rfind(file + ": INVALID_ARGUMENT: ", 0), 0u) << err_.str();
  EXPECT_EQ(server_.calls(), 0);
}

TEST_F(CommandsTest, RecognizeReportsAnUnreachableServerAsUnavailable) {
  const std::string file = dir_.Write("a.png", "x");
  int unused_port = 0;
  {
    FakeOcrServer gone;
    unused_port = gone.port();
  }
  ocr::v1::OcrService::Stub dead(Connect("127.0.0.1:" + std::to_string(unused_port)));
  EXPECT_EQ(RunRecognize(dead, {file}, {}, out_, err_), 1);
  EXPECT_EQ(err_.str().rfind(file + ": UNAVAILABLE: ", 0), 0u) << err_.str();
}

TEST_F(CommandsTest, InfoPrintsTheModelForPeopleAndAsJson) {
  EXPECT_EQ(RunInfo(stub_, {}, false, out_, err_), 0) << err_.str();
  EXPECT_NE(out_.str().find("vocr-fake (version 3)"), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find("4.0x smaller"), std::string::npos) << out_.str();

  std::ostringstream json;
  EXPECT_EQ(RunInfo(stub_, {}, true, json, err_), 0);
  const nlohmann::ordered_json info = nlohmann::ordered_json::parse(json.str());
  EXPECT_EQ(info["name"], "vocr-fake");
  EXPECT_EQ(info["parts"][0]["quantization"], "QAT int8");
  EXPECT_EQ(info["evaluation"]["cer"], 1.5);  // nested, not a string
}

TEST_F(CommandsTest, InfoPassesTheModelSpecAndReportsItsError) {
  CallOptions call;
  call.model.set_version(7);
  EXPECT_EQ(RunInfo(stub_, call, false, out_, err_), 1);
  EXPECT_EQ(err_.str(), "info: NOT_FOUND: no model version 7\n");
}

TEST_F(CommandsTest, HealthExitsZeroOnlyWhenServing) {
  grpc::health::v1::Health::Stub health(Connect(server_.address()));
  EXPECT_EQ(RunHealth(health, "", 1000, out_, err_), 0) << err_.str();
  EXPECT_EQ(out_.str(), "SERVING\n");

  server_.SetServing(false);
  std::ostringstream not_serving;
  EXPECT_EQ(RunHealth(health, "", 1000, not_serving, err_), 1);
  EXPECT_EQ(not_serving.str(), "NOT_SERVING\n");
}

TEST_F(CommandsTest, HealthFailsWithOneForAnUnknownServiceOrNoServer) {
  grpc::health::v1::Health::Stub health(Connect(server_.address()));
  EXPECT_EQ(RunHealth(health, "no.such.Service", 1000, out_, err_), 1);
  EXPECT_EQ(err_.str().rfind("health: NOT_FOUND", 0), 0u) << err_.str();

  int unused_port = 0;
  {
    FakeOcrServer gone;
    unused_port = gone.port();
  }
  grpc::health::v1::Health::Stub dead(Connect("127.0.0.1:" + std::to_string(unused_port)));
  std::ostringstream dead_err;
  EXPECT_EQ(RunHealth(dead, "", 1000, out_, dead_err), 1);
  EXPECT_EQ(dead_err.str().rfind("health: UNAVAILABLE", 0), 0u) << dead_err.str();
}

// Images whose bytes are what the fake will "read", labelled with what they
// should say: one letter wrong in 8, one exact line, one rejected image.
std::string WriteEvalSet(const TestDir& dir) {
  dir.Write("img/viet.png", "Viet Nam");
  dir.Write("img/hanoi.png", "Hà Nội");
  dir.Write("img/bad.png", kBadImage);
  return dir.Write("labels.tsv",
                   "img/viet.png\tViệt Nam\r\nimg/hanoi.png\tHà Nội\r\n\r\nimg/bad.png\tab\r\n");
}

TEST_F(CommandsTest, EvalScoresFailedLinesAsEmptyOutput) {
  const std::string labels = WriteEvalSet(dir_);
  EvalOptions options;
  options.json = true;
  options.worst = 1;
  EXPECT_EQ(RunEval(stub_, labels, options, out_, err_), 0) << err_.str();
  const nlohmann::ordered_json report = nlohmann::ordered_json::parse(out_.str());
  EXPECT_EQ(report["lines"], 3);
  EXPECT_EQ(report["failed_lines"], 1);
  EXPECT_EQ(report["char_errors"], 1 + 0 + 2);  // the failed "ab" counts as 2 deletions
  EXPECT_EQ(report["ref_chars"], 8 + 6 + 2);
  EXPECT_DOUBLE_EQ(report["cer_percent"].get<double>(), 18.75);
  EXPECT_EQ(report["word_errors"], 1 + 0 + 1);
  EXPECT_EQ(report["exact_lines"], 1);
  EXPECT_EQ(report["failed_calls_by_code"]["INVALID_ARGUMENT"], 1);
  ASSERT_EQ(report["worst"].size(), 1u);
  EXPECT_EQ(report["worst"][0]["code"], "INVALID_ARGUMENT");  // 2 errors beat 1
}

TEST_F(CommandsTest, EvalGivesTheSameScoresInBatches) {
  const std::string labels = WriteEvalSet(dir_);
  EvalOptions options;
  options.json = true;
  options.batch_size = 2;
  options.concurrency = 2;
  EXPECT_EQ(RunEval(stub_, labels, options, out_, err_), 0) << err_.str();
  const nlohmann::ordered_json report = nlohmann::ordered_json::parse(out_.str());
  EXPECT_EQ(server_.batch_calls(), 2);
  EXPECT_EQ(server_.recognize_calls(), 0);
  EXPECT_DOUBLE_EQ(report["cer_percent"].get<double>(), 18.75);
  EXPECT_EQ(report["failed_lines"], 1);
  EXPECT_TRUE(report["failed_calls_by_code"].empty());  // the batch call itself succeeded
  EXPECT_EQ(report["failed_lines_by_code"]["INVALID_ARGUMENT"], 1);
}

TEST_F(CommandsTest, EvalPrintsAReadableReport) {
  const std::string labels = WriteEvalSet(dir_);
  EvalOptions options;
  options.worst = 5;
  EXPECT_EQ(RunEval(stub_, labels, options, out_, err_), 0) << err_.str();
  EXPECT_NE(out_.str().find("CER          18.75%"), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find("exact lines  33.33%"), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find("expected: Việt Nam"), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find("got:      Viet Nam"), std::string::npos) << out_.str();
}

TEST_F(CommandsTest, EvalRejectsALabelsFileWithAMissingTab) {
  const std::string labels = dir_.Write("labels.tsv", "a.png\tx\nb.png y\n");
  EXPECT_EQ(RunEval(stub_, labels, {}, out_, err_), 1);
  EXPECT_NE(err_.str().find("labels.tsv:2: no tab"), std::string::npos) << err_.str();
}

}  // namespace
}  // namespace vocr::client

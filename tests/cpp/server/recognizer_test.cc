// The batched greedy decoding loop: batch rows stay independent, abandoned
// lines leave with their error, confidences and the length bound, and the
// same readings as the reference predictor, long lines read in pieces included.
#include "server/core/recognizer.h"

#include <atomic>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/core/image.h"
#include "server/core/long_line.h"
#include "server/core/manifest.h"
#include "server/core/preprocess.h"
#include "tests/cpp/server/test_util.h"

namespace vocr {
namespace {

using ::testing::HasSubstr;
using ::vocr::testing::PatternImage;
using ::vocr::testing::ReadFile;
using ::vocr::testing::ScratchDir;
using ::vocr::testing::TinyBundle;
using ::vocr::testing::WriteFile;
namespace fs = std::filesystem;

absl::Status AlwaysWanted(size_t) { return absl::OkStatus(); }

std::vector<const LineInput*> Pointers(const std::vector<LineInput>& lines) {
  std::vector<const LineInput*> out;
  for (const LineInput& l : lines) out.push_back(&l);
  return out;
}

size_t CodePoints(const std::string& text) {
  absl::StatusOr<std::vector<std::string>> cps = SplitUtf8(text);
  EXPECT_TRUE(cps.ok()) << "reading is not valid UTF-8: " << cps.status();
  return cps.ok() ? cps->size() : 0;
}

class RecognizerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    VOCR_REQUIRE_TINY_BUNDLE();
    bundle_ = TinyBundle();
    ASSERT_NE(bundle_, nullptr);
    recognizer_ = std::make_unique<Recognizer>(bundle_);
  }
  const Manifest& manifest() const { return bundle_->manifest(); }

  // A preprocessed line from a synthetic image `width` pixels wide at model height.
  LineInput Line(int width, int seed) const {
    absl::StatusOr<LineInput> in =
        Preprocess(PatternImage(width, manifest().input.height, seed), manifest().input);
    EXPECT_TRUE(in.ok()) << in.status();
    return *in;
  }
  std::vector<absl::StatusOr<Reading>> Read(const std::vector<LineInput>& lines,
                                            BatchTimings* timings = nullptr) const {
    BatchTimings local;
    return recognizer_->Read(Pointers(lines), AlwaysWanted, timings ? timings : &local);
  }
  // The most tokens a line of this width may emit.
  int Bound(int width) const {
    return std::min(width / manifest().input.feature_stride + manifest().decode.extra_steps,
                    manifest().decode.max_steps);
  }

  std::shared_ptr<Bundle> bundle_;
  std::unique_ptr<Recognizer> recognizer_;
};

TEST_F(RecognizerTest, ReadsAnEmptyBatchAsNothing) {
  BatchTimings timings;
  EXPECT_TRUE(recognizer_->Read({}, AlwaysWanted, &timings).empty());
  EXPECT_EQ(timings.steps, 0);
}

TEST_F(RecognizerTest, ReadsEachLineOfABatchOfCopiesAsTheLineAlone) {
  // Rows of one width are independent: the same line read alone and as every
  // row of a batch gives the same reading (the int8 decoder's per-call
  // activation scales are the same when every row is the same line).
  for (int width : {64, 128}) {
    const LineInput line = Line(width, width);
    absl::StatusOr<Reading> alone = Read({line})[0];
    ASSERT_TRUE(alone.ok()) << alone.status();
    std::vector<absl::StatusOr<Reading>> batch = Read(std::vector<LineInput>(4, line));
    ASSERT_EQ(batch.size(), 4u);
    for (const auto& r : batch) {
      ASSERT_TRUE(r.ok()) << r.status();
      EXPECT_EQ(r->text, alone->text);
      EXPECT_NEAR(r->confidence, alone->confidence, 1e-6);
      ASSERT_EQ(r->char_confidences.size(), alone->char_confidences.size());
      for (size_t k = 0; k < r->char_confidences.size(); ++k) {
        EXPECT_NEAR(r->char_confidences[k], alone->char_confidences[k], 1e-6);
      }
    }
  }
}

TEST_F(RecognizerTest, ReadsEveryLineOfABatchOfDifferentSameWidthLines) {
  std::vector<LineInput> lines;
  for (int seed = 0; seed < 4; ++seed) lines.push_back(Line(96, seed));
  std::vector<absl::StatusOr<Reading>> batch = Read(lines);
  ASSERT_EQ(batch.size(), lines.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    absl::StatusOr<Reading> alone = Read({lines[i]})[0];
    ASSERT_TRUE(batch[i].ok()) << batch[i].status();
    ASSERT_TRUE(alone.ok()) << alone.status();
    // The int8 decoder's activation ranges are fixed at export, so batch-mates
    // change nothing.
    EXPECT_EQ(batch[i]->text, alone->text);
    EXPECT_EQ(batch[i]->char_confidences, alone->char_confidences);
    EXPECT_LE(CodePoints(batch[i]->text), static_cast<size_t>(Bound(96)));
  }
}

TEST_F(RecognizerTest, GivesConfidencesInZeroOneAndOnePerCharacter) {
  std::vector<LineInput> lines{Line(16, 1), Line(64, 2), Line(200, 3), Line(512, 4)};
  std::vector<absl::StatusOr<Reading>> readings = Read(lines);
  for (size_t i = 0; i < readings.size(); ++i) {
    ASSERT_TRUE(readings[i].ok()) << readings[i].status();
    const Reading& r = *readings[i];
    EXPECT_GT(r.confidence, 0.0) << i;
    EXPECT_LE(r.confidence, 1.0) << i;
    EXPECT_EQ(r.char_confidences.size(), CodePoints(r.text)) << i << ": " << r.text;
    for (float c : r.char_confidences) {
      EXPECT_GT(c, 0.0f);
      EXPECT_LE(c, 1.0f);
    }
  }
}

TEST_F(RecognizerTest, StopsEachLineWithinItsLengthBound) {
  std::vector<LineInput> lines{Line(16, 5), Line(40, 6), Line(128, 7), Line(512, 8)};
  BatchTimings timings;
  std::vector<absl::StatusOr<Reading>> readings = Read(lines, &timings);
  int longest = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    ASSERT_TRUE(readings[i].ok()) << readings[i].status();
    EXPECT_LE(CodePoints(readings[i]->text), static_cast<size_t>(Bound(lines[i].width)))
        << "width " << lines[i].width << ": " << readings[i]->text;
    longest = std::max(longest, Bound(lines[i].width));
  }
  EXPECT_GE(timings.steps, 1);
  EXPECT_LE(timings.steps, longest);
  EXPECT_GT(timings.cnn_ms, 0.0);
  EXPECT_GT(timings.decoder_ms, 0.0);
}

TEST_F(RecognizerTest, NeverEmitsMoreThanTheManifestsMaxSteps) {
  // The same bundle with decode.max_steps lowered to 5.
  ScratchDir scratch;
  for (const auto& entry : fs::directory_iterator(bundle_->dir())) {
    fs::copy_file(entry.path(), scratch.path() / entry.path().filename());
  }
  nlohmann::json j = nlohmann::json::parse(ReadFile(scratch / kManifestFile));
  j["decode"]["max_steps"] = 5;
  WriteFile(scratch / kManifestFile, j.dump());
  absl::StatusOr<std::shared_ptr<Bundle>> capped = Bundle::Load(scratch.path().string());
  ASSERT_TRUE(capped.ok()) << capped.status();
  Recognizer recognizer(*capped);
  std::vector<LineInput> lines{Line(128, 1), Line(512, 2)};
  BatchTimings timings;
  for (const auto& r : recognizer.Read(Pointers(lines), AlwaysWanted, &timings)) {
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_LE(CodePoints(r->text), 5u);
  }
  EXPECT_LE(timings.steps, 5);
}

TEST_F(RecognizerTest, AbandonedLineGetsItsErrorAndTheOthersFinish) {
  std::vector<LineInput> lines{Line(128, 1), Line(128, 2), Line(128, 3)};
  std::atomic<int> asked_about_1{0};
  auto still_wanted = [&](size_t i) -> absl::Status {
    if (i == 1 && ++asked_about_1 > 3) return absl::DeadlineExceededError("deadline passed");
    return absl::OkStatus();
  };
  BatchTimings timings;
  std::vector<absl::StatusOr<Reading>> readings = recognizer_->Read(Pointers(lines), still_wanted, &timings);
  ASSERT_EQ(readings.size(), 3u);
  EXPECT_EQ(readings[1].status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(readings[1].status().message(), HasSubstr("deadline passed"));
  EXPECT_EQ(asked_about_1.load(), 4);  // not asked again once it left the batch
  for (size_t i : {0, 2}) {
    ASSERT_TRUE(readings[i].ok()) << i << ": " << readings[i].status();
    EXPECT_GT(readings[i]->confidence, 0.0);
    EXPECT_EQ(readings[i]->char_confidences.size(), CodePoints(readings[i]->text));
  }
}

TEST_F(RecognizerTest, LinesAbandonedBeforeTheFirstStepRunNoDecoderStep) {
  std::vector<LineInput> lines{Line(64, 1), Line(64, 2)};
  BatchTimings timings;
  std::vector<absl::StatusOr<Reading>> readings = recognizer_->Read(
      Pointers(lines), [](size_t) { return absl::CancelledError("gone"); }, &timings);
  for (const auto& r : readings) EXPECT_EQ(r.status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(timings.steps, 0);
}

TEST_F(RecognizerTest, ReadsLinesOfDifferentWidthsInOneBatch) {
  std::vector<LineInput> lines{Line(512, 1), Line(16, 2), Line(200, 3)};
  std::vector<absl::StatusOr<Reading>> readings = Read(lines);
  for (size_t i = 0; i < lines.size(); ++i) {
    ASSERT_TRUE(readings[i].ok()) << readings[i].status();
    EXPECT_LE(CodePoints(readings[i]->text), static_cast<size_t>(Bound(lines[i].width)));
  }
}

TEST_F(RecognizerTest, ReadsEachLineOfABatchOfDifferentWidthsAsTheLineAlone) {
  // Narrower lines' columns are padded and masked; the padding gets exactly
  // zero attention weight, so it changes no bit of a reading.
  std::vector<LineInput> lines{Line(40, 11), Line(512, 12), Line(128, 13), Line(72, 14)};
  std::vector<absl::StatusOr<Reading>> batch = Read(lines);
  for (size_t i = 0; i < lines.size(); ++i) {
    absl::StatusOr<Reading> alone = Read({lines[i]})[0];
    ASSERT_TRUE(batch[i].ok()) << batch[i].status();
    ASSERT_TRUE(alone.ok()) << alone.status();
    EXPECT_EQ(batch[i]->text, alone->text) << "width " << lines[i].width;
    EXPECT_EQ(batch[i]->char_confidences, alone->char_confidences) << "width " << lines[i].width;
  }
}

TEST_F(RecognizerTest, LinesJoiningARunningDecodeReadAsTheyReadAlone) {
  std::vector<LineInput> lines{Line(200, 21), Line(48, 22), Line(512, 23), Line(96, 24), Line(96, 25)};
  std::vector<absl::StatusOr<Reading>> alone;
  for (const LineInput& l : lines) alone.push_back(Read({l})[0]);

  // Line 0 starts alone; the others join after 1, 2 and 3 steps (two at once),
  // wider and narrower than what is decoding. Their CNN runs on two threads
  // (one alone): the int8 CNN reads the same on any number of threads.
  DecodeRun run(recognizer_.get());
  std::map<int64_t, absl::StatusOr<Reading>> got;
  BatchTimings timings;
  auto collect = [&](std::vector<DecodeRun::Ended> ended) {
    for (auto& e : ended) got.emplace(e.id, std::move(e.reading));
  };
  auto join = [&](std::vector<int64_t> ids) {
    std::vector<const LineInput*> in;
    for (int64_t id : ids) in.push_back(&lines[id]);
    collect(run.Join(in, ids, /*cnn_threads=*/2, &timings));
  };
  join({0});
  for (int step = 1; run.rows() > 0; ++step) {
    if (step == 2) join({1});
    if (step == 3) join({2});
    if (step == 4) join({3, 4});
    collect(run.Step(AlwaysWanted));
  }
  ASSERT_EQ(got.size(), lines.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    ASSERT_TRUE(got.at(i).ok()) << got.at(i).status();
    ASSERT_TRUE(alone[i].ok()) << alone[i].status();
    EXPECT_EQ(got.at(i)->text, alone[i]->text) << "line " << i;
    EXPECT_EQ(got.at(i)->char_confidences, alone[i]->char_confidences) << "line " << i;
    EXPECT_EQ(got.at(i)->confidence, alone[i]->confidence) << "line " << i;
  }
}

// ---- Against the reference predictor -----------------------------------------------

class RecognizerReference : public RecognizerTest {
 protected:
  void SetUp() override {
    VOCR_REQUIRE_REFERENCE();
    RecognizerTest::SetUp();
    if (IsSkipped()) return;
    dir_ = ::vocr::testing::ReferenceDir();
    ref_ = nlohmann::json::parse(ReadFile((dir_ / "reference.json").string()));
    for (const auto& image : ref_["images"]) {
      absl::StatusOr<cv::Mat> mat =
          DecodeImage(ReadFile((dir_ / image["png"].get<std::string>()).string()), ImageLimits{});
      ASSERT_TRUE(mat.ok()) << mat.status();
      absl::StatusOr<LineInput> in = Preprocess(*mat, manifest().input);
      ASSERT_TRUE(in.ok()) << in.status();
      inputs_.push_back(*in);
    }
  }
  // Texts equal, confidences within 1e-4.
  static void ExpectSameReading(const absl::StatusOr<Reading>& got, const nlohmann::json& want,
                                const std::string& what) {
    ASSERT_TRUE(got.ok()) << what << ": " << got.status();
    EXPECT_EQ(got->text, want["text"].get<std::string>()) << what;
    EXPECT_NEAR(got->confidence, want["confidence"].get<double>(), 1e-4) << what;
    const std::vector<double> chars = want["char_confidences"];
    ASSERT_EQ(got->char_confidences.size(), chars.size()) << what;
    for (size_t k = 0; k < chars.size(); ++k)
      EXPECT_NEAR(got->char_confidences[k], chars[k], 1e-4) << what << " #" << k;
  }

  fs::path dir_;
  nlohmann::json ref_;
  std::vector<LineInput> inputs_;
};

TEST_F(RecognizerReference, ReadsEachLineAloneAsThePredictorDoes) {
  ASSERT_EQ(inputs_.size(), ref_["alone"].size());
  for (size_t i = 0; i < inputs_.size(); ++i) {
    ExpectSameReading(Read({inputs_[i]})[0], ref_["alone"][i], ref_["images"][i]["name"].get<std::string>());
  }
}

TEST_F(RecognizerReference, ReadsBatchesAsThePredictorDoesAtTheSameComposition) {
  ASSERT_FALSE(ref_["batches"].empty());
  for (const auto& batch : ref_["batches"]) {
    std::vector<LineInput> lines;
    for (int i : batch["indices"]) lines.push_back(inputs_[i]);
    std::vector<absl::StatusOr<Reading>> readings = Read(lines);
    ASSERT_EQ(readings.size(), batch["readings"].size());
    for (size_t k = 0; k < readings.size(); ++k) {
      ExpectSameReading(readings[k], batch["readings"][k],
                        "batch of " + std::to_string(lines.size()) + ", row " + std::to_string(k));
    }
  }
}

TEST_F(RecognizerReference, ReadsLongLinesInPiecesAsThePredictorDoes) {
  ASSERT_FALSE(ref_["long_lines"].empty());
  for (const auto& line : ref_["long_lines"]) {
    const std::string name = line["name"];
    absl::StatusOr<cv::Mat> mat =
        DecodeImage(ReadFile((dir_ / line["png"].get<std::string>()).string()), ImageLimits{});
    ASSERT_TRUE(mat.ok()) << mat.status();
    absl::StatusOr<cv::Mat> gray = ToGray(*mat);
    ASSERT_TRUE(gray.ok()) << gray.status();
    std::vector<LineSpan> spans = SplitColumns(*gray, manifest().input);
    ASSERT_EQ(spans.size(), line["spans"].size()) << name;
    ASSERT_GT(spans.size(), 1u) << name;
    for (size_t k = 0; k < spans.size(); ++k) {
      EXPECT_EQ(spans[k].begin, line["spans"][k][0].get<int>()) << name;
      EXPECT_EQ(spans[k].end, line["spans"][k][1].get<int>()) << name;
      EXPECT_EQ(spans[k].space_after, line["spans"][k][2].get<bool>()) << name;
    }
    std::vector<Reading> readings;
    for (auto& r : Read(PreprocessPieces(*gray, spans, manifest().input))) {
      ASSERT_TRUE(r.ok()) << r.status();
      readings.push_back(*r);
    }
    ExpectSameReading(JoinReadings(readings, spans), line["reading"], name);
  }
}

}  // namespace
}  // namespace vocr

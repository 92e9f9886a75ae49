// Cutting long lines into pieces and joining their readings: the cases of
// tests/trainer/test_long_lines.py, with the spans the reference predictor
// gives for the same images (exact parity on real-like images is checked in
// recognizer_test.cc against make_reference.py's output).
#include "server/core/long_line.h"

#include <opencv2/core.hpp>
#include <vector>

#include "gtest/gtest.h"

namespace vocr {
namespace {

InputSpec Spec(int split_width = 512) {
  InputSpec spec;
  spec.height = 32;
  spec.max_width = 512;
  spec.split_width = split_width;
  return spec;
}

// Dark 'words' of word_px columns on white, gap_px blank columns apart.
cv::Mat WordsImage(int word_px, int gap_px, int width, int height = 32) {
  cv::Mat image(height, width, CV_8UC1, cv::Scalar(250));
  for (int x = 4; x < width; x += word_px + gap_px) {
    image(cv::Range(10, height - 10), cv::Range(x, std::min(width, x + word_px))).setTo(20);
  }
  return image;
}

struct Want {
  int begin, end;
  bool space;
};

void ExpectSpans(const std::vector<LineSpan>& got, const std::vector<Want>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i].begin, want[i].begin) << i;
    EXPECT_EQ(got[i].end, want[i].end) << i;
    EXPECT_EQ(got[i].space_after, want[i].space) << i;
  }
}

TEST(SplitColumns, ALineThatFitsIsOnePiece) {
  ExpectSpans(SplitColumns(WordsImage(40, 12, 512), Spec()), {{0, 512, false}});
}

TEST(SplitColumns, CutsInWordGapsLikeThePredictor) {
  ExpectSpans(SplitColumns(WordsImage(50, 12, 2000), Spec()),
              {{0, 494, true}, {494, 990, true}, {990, 1486, true}, {1486, 1796, true}, {1796, 2000, false}});
}

TEST(SplitColumns, ARuleThroughTheWholeLineDoesNotHideTheGaps) {
  cv::Mat image = WordsImage(50, 12, 2000);
  image(cv::Range(25, 27), cv::Range::all()).setTo(60);
  ExpectSpans(SplitColumns(image, Spec()),
              {{0, 494, true}, {494, 990, true}, {990, 1486, true}, {1486, 1796, true}, {1796, 2000, false}});
}

TEST(SplitColumns, NarrowGapsJoinWithoutASpace) {
  ExpectSpans(SplitColumns(WordsImage(30, 3, 1400), Spec()),
              {{0, 497, false}, {497, 992, false}, {992, 1400, false}});
}

TEST(SplitColumns, LimitFollowsTheSourceHeight) {
  ExpectSpans(SplitColumns(WordsImage(100, 24, 2000, 64), Spec()), {{0, 1010, true}, {1010, 2000, false}});
}

TEST(SplitColumns, PiecesAreAtMostTheSplitWidth) {
  ExpectSpans(SplitColumns(WordsImage(50, 12, 2000), Spec(320)), {{0, 308, true},
                                                                  {308, 618, true},
                                                                  {618, 866, true},
                                                                  {866, 1176, true},
                                                                  {1176, 1424, true},
                                                                  {1424, 1734, true},
                                                                  {1734, 2000, false}});
}

TEST(SplitColumns, NoGapAtAllStillCutsWithinTheLimit) {
  cv::Mat image(40, 3000, CV_8UC1);
  cv::randu(image, 0, 256);
  std::vector<LineSpan> spans = SplitColumns(image, Spec());
  ASSERT_GT(spans.size(), 1u);
  EXPECT_EQ(spans.front().begin, 0);
  EXPECT_EQ(spans.back().end, 3000);
  for (size_t i = 0; i < spans.size(); ++i) {
    EXPECT_LE(spans[i].end - spans[i].begin, 512 * 40 / 32);
    if (i > 0) {
      EXPECT_EQ(spans[i].begin, spans[i - 1].end);
    }
  }
}

TEST(JoinReadings, SpacesWhereTheGapWasWideAndConfidenceOverAllTokens) {
  Reading a{"Xin chào", 0.9, std::vector<float>(8, 0.9f)};
  Reading b{"Việt Nam", 0.5, std::vector<float>(8, 0.5f)};
  Reading joined = JoinReadings({a, b}, {{0, 10, true}, {10, 20, false}});
  EXPECT_EQ(joined.text, "Xin chào Việt Nam");
  ASSERT_EQ(joined.char_confidences.size(), 17u);
  EXPECT_FLOAT_EQ(joined.char_confidences[8], 0.5f);
  EXPECT_GT(joined.confidence, 0.5);
  EXPECT_LT(joined.confidence, 0.9);
  EXPECT_EQ(JoinReadings({a, b}, {{0, 10, false}, {10, 20, false}}).text, "Xin chàoViệt Nam");
  EXPECT_EQ(JoinReadings({a, Reading{"", 0.3, {}}}, {{0, 10, true}, {10, 20, false}}).text, "Xin chào");
  // A space before a piece that read nothing goes to the next piece that read something.
  EXPECT_EQ(
      JoinReadings({a, Reading{"", 0.3, {}}, b}, {{0, 10, true}, {10, 20, false}, {20, 30, false}}).text,
      "Xin chào Việt Nam");
}

}  // namespace
}  // namespace vocr

#include "client/labels.h"

#include <gtest/gtest.h>

namespace vocr::client {
namespace {

TEST(ParseLabels, ResolvesPathsAgainstTheLabelsDirectory) {
  absl::StatusOr<std::vector<LabeledLine>> lines =
      ParseLabels("img/0001.png\tViệt Nam\n/abs/x.png\tHà Nội\n", "/data/val", "labels.tsv");
  ASSERT_TRUE(lines.ok()) << lines.status();
  ASSERT_EQ(lines->size(), 2u);
  EXPECT_EQ((*lines)[0].path, "/data/val/img/0001.png");
  EXPECT_EQ((*lines)[0].text, "Việt Nam");
  EXPECT_EQ((*lines)[0].line_number, 1);
  EXPECT_EQ((*lines)[1].path, "/abs/x.png");
}

TEST(ParseLabels, StripsCrlfLineEndings) {
  absl::StatusOr<std::vector<LabeledLine>> lines = ParseLabels("a.png\tmột\r\nb.png\thai\r\n", "", "l.tsv");
  ASSERT_TRUE(lines.ok()) << lines.status();
  ASSERT_EQ(lines->size(), 2u);
  EXPECT_EQ((*lines)[0].text, "một");
  EXPECT_EQ((*lines)[1].path, "b.png");
  EXPECT_EQ((*lines)[1].text, "hai");
}

TEST(ParseLabels, SkipsBlankLinesButKeepsLineNumbers) {
  absl::StatusOr<std::vector<LabeledLine>> lines = ParseLabels("\n  \na.png\tx\n\r\n\nb.png\ty", "", "l.tsv");
  ASSERT_TRUE(lines.ok()) << lines.status();
  ASSERT_EQ(lines->size(), 2u);
  EXPECT_EQ((*lines)[0].line_number, 3);
  EXPECT_EQ((*lines)[1].line_number, 6);
  EXPECT_EQ((*lines)[1].text, "y");  // last line without a newline
}

TEST(ParseLabels, RejectsALineWithoutATabNamingTheLine) {
  absl::StatusOr<std::vector<LabeledLine>> lines = ParseLabels("a.png\tok\nb.png no tab\n", "", "val.tsv");
  ASSERT_FALSE(lines.ok());
  EXPECT_EQ(lines.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(lines.status().message().find("val.tsv:2"), absl::string_view::npos) << lines.status();
}

TEST(ParseLabels, RejectsAnEmptyPath) {
  absl::StatusOr<std::vector<LabeledLine>> lines = ParseLabels("\ttext\n", "", "l.tsv");
  EXPECT_EQ(lines.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ParseLabels, KeepsTextAfterTheFirstTabAsIs) {
  absl::StatusOr<std::vector<LabeledLine>> lines = ParseLabels("a.png\t  hai\tba\nb.png\t\n", "", "l.tsv");
  ASSERT_TRUE(lines.ok()) << lines.status();
  EXPECT_EQ((*lines)[0].text, "  hai\tba");
  EXPECT_EQ((*lines)[1].text, "");  // an empty label is allowed
}

TEST(ParseLabels, IgnoresAByteOrderMark) {
  absl::StatusOr<std::vector<LabeledLine>> lines = ParseLabels(
      "\xEF\xBB\xBF"
      "a.png\tx\n",
      "", "l.tsv");
  ASSERT_TRUE(lines.ok()) << lines.status();
  EXPECT_EQ((*lines)[0].path, "a.png");
}

TEST(ReadLabelsFile, ReportsAMissingFileAsNotFound) {
  EXPECT_EQ(ReadLabelsFile("/nonexistent/labels.tsv").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace vocr::client

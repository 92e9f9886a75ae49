#include "client/utf8.h"

#include <gtest/gtest.h>

namespace vocr::client {
namespace {

TEST(SplitUtf8, DecodesEachVietnameseLetterAsOneCodePoint) {
  // "Việt" is 4 letters but 6 bytes: "ệ" is U+1EC7, three bytes.
  EXPECT_EQ(SplitUtf8("Việt"), (std::vector<char32_t>{U'V', U'i', U'\u1EC7', U't'}));
}

TEST(SplitUtf8, DecodesOneToFourByteSequences) {
  EXPECT_EQ(SplitUtf8("a\u00E9\u20AC\U0001F600"), (std::vector<char32_t>{U'a', 0xE9, 0x20AC, 0x1F600}));
}

TEST(SplitUtf8, ReturnsNothingForEmptyText) { EXPECT_TRUE(SplitUtf8("").empty()); }

TEST(SplitUtf8, ReplacesEachByteOfMalformedInputAndResynchronises) {
  // A stray continuation byte, then a truncated 3-byte sequence before "b".
  EXPECT_EQ(SplitUtf8("a\x80\xE1\xBB"
                      "b"),
            (std::vector<char32_t>{U'a', kReplacementChar, kReplacementChar, kReplacementChar, U'b'}));
}

TEST(SplitUtf8, RejectsOverlongEncodingsAndSurrogates) {
  EXPECT_EQ(SplitUtf8("\xC0\xAF"), (std::vector<char32_t>{kReplacementChar, kReplacementChar}));
  EXPECT_EQ(SplitUtf8("\xED\xA0\x80"),
            (std::vector<char32_t>{kReplacementChar, kReplacementChar, kReplacementChar}));
}

TEST(SplitUtf8, RejectsTruncatedSequenceAtEndOfText) {
  EXPECT_EQ(SplitUtf8("x\xE1\xBB"), (std::vector<char32_t>{U'x', kReplacementChar, kReplacementChar}));
}

TEST(SplitWords, SplitsOnRunsOfWhitespaceWithoutEmptyWords) {
  EXPECT_EQ(SplitWords("  Việt \t Nam\r\n"), (std::vector<absl::string_view>{"Việt", "Nam"}));
}

TEST(SplitWords, ReturnsNothingForBlankText) { EXPECT_TRUE(SplitWords(" \t ").empty()); }

}  // namespace
}  // namespace vocr::client

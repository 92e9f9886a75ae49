#include "client/text_metrics.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "client/edit_distance.h"
#include "client/utf8.h"

namespace vocr::client {
namespace {

TEST(EditDistance, CountsVietnameseLettersAsSingleCharacters) {
  // One letter differs ("ệ" vs "e"); bytewise it would be 3 edits.
  EXPECT_EQ(EditDistance(SplitUtf8("Việt Nam"), SplitUtf8("Viet Nam")), 1u);
  EXPECT_EQ(SplitUtf8("Việt Nam").size(), 8u);
}

TEST(EditDistance, CountsInsertionsDeletionsAndSubstitutions) {
  EXPECT_EQ(EditDistance(SplitUtf8("kitten"), SplitUtf8("sitting")), 3u);
  EXPECT_EQ(EditDistance(SplitUtf8(""), SplitUtf8("abc")), 3u);
  EXPECT_EQ(EditDistance(SplitUtf8("abc"), SplitUtf8("")), 3u);
  EXPECT_EQ(EditDistance(SplitUtf8("đường"), SplitUtf8("đường")), 0u);
}

TEST(EditDistance, TellsApartLettersThatDifferOnlyInTone) {
  // ả (U+1EA3), á (U+00E1), à (U+00E0), ạ (U+1EA1): all different letters.
  EXPECT_EQ(EditDistance(SplitUtf8("ảáàạ"), SplitUtf8("aaaa")), 4u);
  EXPECT_EQ(EditDistance(SplitUtf8("ảáàạ"), SplitUtf8("ạàáả")), 4u);
}

TEST(ScoreLine, ScoresOneWrongLetterAsOneCharacterAndOneWordError) {
  const LineScore score = ScoreLine("Việt Nam", "Viet Nam");
  EXPECT_EQ(score.char_errors, 1u);
  EXPECT_EQ(score.ref_chars, 8u);
  EXPECT_EQ(score.word_errors, 1u);
  EXPECT_EQ(score.ref_words, 2u);
  EXPECT_FALSE(score.exact);
}

TEST(ScoreLine, TreatsAnIdenticalLineAsExact) {
  const LineScore score = ScoreLine("Hà Nội mùa thu", "Hà Nội mùa thu");
  EXPECT_EQ(score.char_errors, 0u);
  EXPECT_EQ(score.word_errors, 0u);
  EXPECT_TRUE(score.exact);
}

TEST(ScoreLine, CountsAMissingWordAsOneWordError) {
  const LineScore score = ScoreLine("tôi yêu Việt Nam", "tôi Việt Nam");
  EXPECT_EQ(score.word_errors, 1u);
  EXPECT_EQ(score.ref_words, 4u);
  EXPECT_EQ(score.char_errors, 4u);  // "yêu " removed
}

TEST(ErrorRates, SumsErrorsOverLinesInsteadOfAveragingPerLineRates) {
  ErrorRates rates;
  rates.Add(ScoreLine("Việt Nam", "Viet Nam"));  // 1 / 8 chars, 1 / 2 words
  rates.Add(ScoreLine("ab", "xy"));              // 2 / 2 chars, 1 / 1 words
  EXPECT_EQ(rates.lines(), 2u);
  EXPECT_DOUBLE_EQ(rates.CerPercent(), 100.0 * 3 / 10);  // not the mean of 12.5% and 100%
  EXPECT_DOUBLE_EQ(rates.WerPercent(), 100.0 * 2 / 3);
  EXPECT_DOUBLE_EQ(rates.ExactPercent(), 0.0);
}

TEST(ErrorRates, CountsExactLines) {
  ErrorRates rates;
  rates.Add(ScoreLine("một", "một"));
  rates.Add(ScoreLine("hai", "hai"));
  rates.Add(ScoreLine("ba", "bà"));
  EXPECT_DOUBLE_EQ(rates.ExactPercent(), 100.0 * 2 / 3);
}

TEST(ErrorRates, ReportsZeroForNoLinesAndFullErrorForTextAgainstEmptyReferences) {
  ErrorRates empty;
  EXPECT_EQ(empty.CerPercent(), 0.0);
  EXPECT_EQ(empty.ExactPercent(), 0.0);
  ErrorRates spurious;
  spurious.Add(ScoreLine("", "x"));
  EXPECT_EQ(spurious.CerPercent(), 100.0);
}

// The table the Python scorer (model/vocr_train/evaluate.py) runs too, so
// the two agree on word splitting and empty references.
TEST(ErrorRates, ScoreAsTheSharedTableSays) {
  std::ifstream in(VOCR_SCORING_CASES);
  ASSERT_TRUE(in) << VOCR_SCORING_CASES;
  std::stringstream text;
  text << in.rdbuf();
  const nlohmann::json table = nlohmann::json::parse(text.str());
  ASSERT_FALSE(table["cases"].empty());
  for (const auto& c : table["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    ErrorRates rates;
    for (size_t i = 0; i < c["refs"].size(); ++i) {
      rates.Add(ScoreLine(c["refs"][i].get<std::string>(), c["hyps"][i].get<std::string>()));
    }
    EXPECT_NEAR(rates.CerPercent(), c["cer"].get<double>(), 1e-5);
    EXPECT_NEAR(rates.WerPercent(), c["wer"].get<double>(), 1e-5);
    EXPECT_NEAR(rates.ExactPercent(), c["exact"].get<double>(), 1e-5);
  }
}

}  // namespace
}  // namespace vocr::client

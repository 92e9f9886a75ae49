#include "client/text_metrics.h"

#include <string>
#include <vector>

#include "client/edit_distance.h"
#include "client/utf8.h"

namespace vocr::client {
namespace {

double Percent(size_t errors, size_t total) {
  if (total == 0) return errors == 0 ? 0.0 : 100.0;
  return 100.0 * static_cast<double>(errors) / static_cast<double>(total);
}

}  // namespace

LineScore ScoreLine(absl::string_view reference, absl::string_view hypothesis) {
  LineScore score;
  const std::vector<char32_t> ref_chars = SplitUtf8(reference);
  score.char_errors = EditDistance(ref_chars, SplitUtf8(hypothesis));
  score.ref_chars = ref_chars.size();
  const std::vector<absl::string_view> ref_words = SplitWords(reference);
  score.word_errors = EditDistance(ref_words, SplitWords(hypothesis));
  score.ref_words = ref_words.size();
  score.exact = reference == hypothesis;
  return score;
}

void ErrorRates::Add(const LineScore& score) {
  ++lines_;
  char_errors_ += score.char_errors;
  ref_chars_ += score.ref_chars;
  word_errors_ += score.word_errors;
  ref_words_ += score.ref_words;
  if (score.exact) ++exact_lines_;
}

double ErrorRates::CerPercent() const { return Percent(char_errors_, ref_chars_); }
double ErrorRates::WerPercent() const { return Percent(word_errors_, ref_words_); }
double ErrorRates::ExactPercent() const {
  return lines_ == 0 ? 0.0 : 100.0 * static_cast<double>(exact_lines_) / static_cast<double>(lines_);
}

}  // namespace vocr::client

// Character and word error rates of recognised lines against their labels.
#ifndef VOCR_CLIENT_TEXT_METRICS_H_
#define VOCR_CLIENT_TEXT_METRICS_H_

#include <cstddef>

#include "absl/strings/string_view.h"

namespace vocr::client {

// How far one hypothesis is from its reference.
struct LineScore {
  size_t char_errors = 0;  // edit distance over code points
  size_t ref_chars = 0;    // code points in the reference
  size_t word_errors = 0;  // edit distance over whitespace-split words
  size_t ref_words = 0;
  bool exact = false;  // byte-identical
};

LineScore ScoreLine(absl::string_view reference, absl::string_view hypothesis);

// Sums line scores. CER and WER are corpus-level (summed errors over summed
// reference length, the usual OCR convention), not a mean of per-line rates,
// so long lines weigh more than short ones.
class ErrorRates {
 public:
  void Add(const LineScore& score);

  size_t lines() const { return lines_; }
  size_t char_errors() const { return char_errors_; }
  size_t ref_chars() const { return ref_chars_; }
  size_t word_errors() const { return word_errors_; }
  size_t ref_words() const { return ref_words_; }
  size_t exact_lines() const { return exact_lines_; }

  // In percent. With an empty reference, any error counts as 100%.
  double CerPercent() const;
  double WerPercent() const;
  double ExactPercent() const;

 private:
  size_t lines_ = 0;
  size_t char_errors_ = 0;
  size_t ref_chars_ = 0;
  size_t word_errors_ = 0;
  size_t ref_words_ = 0;
  size_t exact_lines_ = 0;
};

}  // namespace vocr::client

#endif  // VOCR_CLIENT_TEXT_METRICS_H_

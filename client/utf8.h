// UTF-8 to code points, so error rates count what a reader sees as one letter
// ("ệ" is one precomposed code point, U+1EC7, but three bytes).
#ifndef VOCR_CLIENT_UTF8_H_
#define VOCR_CLIENT_UTF8_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace vocr::client {

// U+FFFD, what each byte of a malformed sequence decodes to.
inline constexpr char32_t kReplacementChar = 0xFFFD;

// Decodes UTF-8 into code points. Malformed input (stray continuation bytes,
// truncated or overlong sequences, surrogates, values past U+10FFFF) never
// fails: each offending byte becomes one U+FFFD and decoding resumes at the
// next byte, so a bad label costs a few characters rather than the whole run.
std::vector<char32_t> SplitUtf8(absl::string_view text);

// Splits on ASCII whitespace (space, tab, CR, LF, VT, FF); runs of it count
// as one separator and leading/trailing whitespace yields no empty words.
std::vector<absl::string_view> SplitWords(absl::string_view text);

}  // namespace vocr::client

#endif  // VOCR_CLIENT_UTF8_H_

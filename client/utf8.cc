#include "client/utf8.h"

#include <utf8.h>

#include <cstdint>

namespace vocr::client {
namespace {

bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

}  // namespace

std::vector<char32_t> SplitUtf8(absl::string_view text) {
  std::vector<char32_t> out;
  out.reserve(text.size());
  const char* const end = text.data() + text.size();
  for (const char* it = text.data(); it != end;) {
    const char* start = it;
    try {
      // utfcpp rejects truncated, overlong and surrogate sequences and values
      // past U+10FFFF.
      out.push_back(static_cast<char32_t>(utf8::next(it, end)));
    } catch (const utf8::exception&) {
      out.push_back(kReplacementChar);
      it = start + 1;
    }
  }
  return out;
}

std::vector<absl::string_view> SplitWords(absl::string_view text) {
  std::vector<absl::string_view> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && IsAsciiSpace(text[i])) ++i;
    const size_t start = i;
    while (i < text.size() && !IsAsciiSpace(text[i])) ++i;
    if (i > start) words.push_back(text.substr(start, i - start));
  }
  return words;
}

}  // namespace vocr::client

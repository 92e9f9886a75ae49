#include "client/utf8.h"

#include <cstdint>

namespace vocr::client {
namespace {

bool IsContinuation(unsigned char byte) { return (byte & 0xC0) == 0x80; }

bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

}  // namespace

std::vector<char32_t> SplitUtf8(absl::string_view text) {
  std::vector<char32_t> out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    if (lead < 0x80) {
      out.push_back(lead);
      ++i;
      continue;
    }
    // Length and the smallest value that may use it (smaller is overlong).
    size_t length = 0;
    char32_t value = 0;
    char32_t min_value = 0;
    if ((lead & 0xE0) == 0xC0) {
      length = 2, value = lead & 0x1F, min_value = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
      length = 3, value = lead & 0x0F, min_value = 0x800;
    } else if ((lead & 0xF8) == 0xF0) {
      length = 4, value = lead & 0x07, min_value = 0x10000;
    }
    bool ok = length != 0 && i + length <= text.size();
    for (size_t k = 1; ok && k < length; ++k) {
      const auto byte = static_cast<unsigned char>(text[i + k]);
      ok = IsContinuation(byte);
      value = (value << 6) | (byte & 0x3F);
    }
    ok = ok && value >= min_value && value <= 0x10FFFF && !(value >= 0xD800 && value <= 0xDFFF);
    if (ok) {
      out.push_back(value);
      i += length;
    } else {
      out.push_back(kReplacementChar);
      ++i;
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

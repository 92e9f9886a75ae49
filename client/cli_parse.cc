#include "client/cli_parse.h"

#include <algorithm>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace vocr::client {

absl::StatusOr<std::vector<int>> ParseSweep(absl::string_view text) {
  if (absl::StripAsciiWhitespace(text).empty()) return absl::InvalidArgumentError("empty --sweep list");
  std::vector<int> levels;
  for (absl::string_view entry : absl::StrSplit(text, ',')) {
    entry = absl::StripAsciiWhitespace(entry);
    int level = 0;
    if (!absl::SimpleAtoi(entry, &level) || level <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--sweep entry '", entry, "' is not a positive integer"));
    }
    if (std::find(levels.begin(), levels.end(), level) != levels.end()) {
      return absl::InvalidArgumentError(absl::StrCat("--sweep lists concurrency ", level, " twice"));
    }
    levels.push_back(level);
  }
  return levels;
}

absl::StatusOr<Arrival> ParseArrival(absl::string_view text) {
  const std::string lower = absl::AsciiStrToLower(text);
  if (lower == "poisson") return Arrival::kPoisson;
  if (lower == "uniform") return Arrival::kUniform;
  return absl::InvalidArgumentError(absl::StrCat("--arrival must be poisson or uniform, not '", text, "'"));
}

}  // namespace vocr::client

// Parsing of flag values that absl cannot parse by itself.
#ifndef VOCR_CLIENT_CLI_PARSE_H_
#define VOCR_CLIENT_CLI_PARSE_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vocr::client {

// "1,2,4,8,16" -> {1, 2, 4, 8, 16}. Spaces around entries are allowed; every
// entry must be a positive integer, and an empty list, an empty entry or a
// repeated level is INVALID_ARGUMENT (a typo should not silently run a
// different sweep). Order is kept.
absl::StatusOr<std::vector<int>> ParseSweep(absl::string_view text);

// How open-loop calls are spaced.
enum class Arrival {
  kPoisson,  // exponential gaps: independent clients, bursts included
  kUniform,  // exactly 1/rate apart
};

// "poisson" or "uniform".
absl::StatusOr<Arrival> ParseArrival(absl::string_view text);

}  // namespace vocr::client

#endif  // VOCR_CLIENT_CLI_PARSE_H_

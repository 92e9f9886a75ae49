// Early-return helpers for absl::Status / absl::StatusOr in the core.
#ifndef VOCR_SERVER_CORE_STATUS_MACROS_H_
#define VOCR_SERVER_CORE_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define VOCR_RETURN_IF_ERROR(expr)     \
  do {                                 \
    absl::Status _status = (expr);     \
    if (!_status.ok()) return _status; \
  } while (0)

#define VOCR_CONCAT_INNER(a, b) a##b
#define VOCR_CONCAT(a, b) VOCR_CONCAT_INNER(a, b)

// VOCR_ASSIGN_OR_RETURN(auto x, MakeX()); declares x from an OK StatusOr or
// returns its error.
#define VOCR_ASSIGN_OR_RETURN(lhs, expr)               \
  auto VOCR_CONCAT(_statusor_, __LINE__) = (expr);     \
  if (!VOCR_CONCAT(_statusor_, __LINE__).ok()) {       \
    return VOCR_CONCAT(_statusor_, __LINE__).status(); \
  }                                                    \
  lhs = *std::move(VOCR_CONCAT(_statusor_, __LINE__))

#endif  // VOCR_SERVER_CORE_STATUS_MACROS_H_

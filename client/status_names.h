// Names for gRPC status codes, as the client prints them ("INVALID_ARGUMENT").
#ifndef VOCR_CLIENT_STATUS_NAMES_H_
#define VOCR_CLIENT_STATUS_NAMES_H_

#include <grpcpp/support/status.h>

#include <string>

#include "absl/status/status.h"

namespace vocr::client {

// The canonical upper-case name of a google.rpc.Code value; codes outside the
// known range come back as "CODE_<n>" so a report never drops them.
std::string CodeName(int code);
inline std::string CodeName(grpc::StatusCode code) { return CodeName(static_cast<int>(code)); }
inline std::string CodeName(absl::StatusCode code) { return CodeName(static_cast<int>(code)); }

// gRPC and absl share the google.rpc.Code numbering, so a failed call can be
// carried around as an absl::Status like any local error.
absl::Status ToAbslStatus(const grpc::Status& status);

}  // namespace vocr::client

#endif  // VOCR_CLIENT_STATUS_NAMES_H_

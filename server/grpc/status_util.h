// absl::Status (the core's errors) -> grpc::Status (the wire's), at the edge.
#ifndef VOCR_SERVER_GRPC_STATUS_UTIL_H_
#define VOCR_SERVER_GRPC_STATUS_UTIL_H_

#include <grpcpp/support/status.h>

#include <string>

#include "absl/status/status.h"

namespace vocr {

// Same numeric codes on both sides; long messages are cut, they reach logs
// and users verbatim.
inline grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  constexpr size_t kMaxMessage = 1024;
  std::string message(status.message().substr(0, kMaxMessage));
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), message);
}

}  // namespace vocr

#endif  // VOCR_SERVER_GRPC_STATUS_UTIL_H_

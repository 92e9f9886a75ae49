// `ocr_client health`: the standard grpc.health.v1 check, for Docker's
// HEALTHCHECK and for people.
#ifndef VOCR_CLIENT_HEALTH_CMD_H_
#define VOCR_CLIENT_HEALTH_CMD_H_

#include <ostream>
#include <string>

#include "grpc/health/v1/health.grpc.pb.h"

namespace vocr::client {

// Calls Health/Check for `service` ("" = the whole server) and prints the
// serving status (SERVING, NOT_SERVING, ...) to `out`. Returns 0 only for
// SERVING and 1 otherwise, an RPC failure included (printed to `err` as
// "CODE_NAME: message"): Docker reads any exit status but 0 and 1 as a
// misconfigured check.
int RunHealth(grpc::health::v1::Health::StubInterface& stub, const std::string& service, int timeout_ms,
              std::ostream& out, std::ostream& err);

}  // namespace vocr::client

#endif  // VOCR_CLIENT_HEALTH_CMD_H_

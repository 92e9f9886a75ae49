#include "client/health_cmd.h"

#include "client/channel.h"
#include "client/status_names.h"

namespace vocr::client {

int RunHealth(grpc::health::v1::Health::StubInterface& stub, const std::string& service, int timeout_ms,
              std::ostream& out, std::ostream& err) {
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::health::v1::HealthCheckResponse response;
  grpc::ClientContext context;
  SetTimeout(context, timeout_ms);
  const grpc::Status status = stub.Check(&context, request, &response);
  if (!status.ok()) {
    err << "health: " << CodeName(status.error_code()) << ": " << status.error_message() << "\n";
    return 1;
  }
  std::string name = grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status());
  if (name.empty()) name = "STATUS_" + std::to_string(response.status());  // a value newer than our proto
  out << name << "\n";
  return response.status() == grpc::health::v1::HealthCheckResponse::SERVING ? 0 : 1;
}

}  // namespace vocr::client

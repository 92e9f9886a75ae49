#include "client/status_names.h"

#include "absl/strings/str_cat.h"

namespace vocr::client {

std::string CodeName(int code) {
  // absl names every canonical code and gives "" for the rest.
  std::string name = absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
  return name.empty() ? absl::StrCat("CODE_", code) : name;
}

absl::Status ToAbslStatus(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

}  // namespace vocr::client

#include "client/channel.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <chrono>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "client/images.h"

namespace vocr::client {

absl::StatusOr<grpc::ChannelArguments> MakeChannelArguments(const ChannelOptions& options) {
  if (options.max_message_mb < 1 || options.max_message_mb > 2047) {
    return absl::InvalidArgumentError(
        absl::StrCat("--max_message_mb must be in 1..2047, not ", options.max_message_mb));
  }
  grpc::ChannelArguments args;
  const int bytes = options.max_message_mb * 1024 * 1024;
  args.SetMaxSendMessageSize(bytes);
  args.SetMaxReceiveMessageSize(bytes);
  if (!options.lb_policy.empty()) {
    if (options.lb_policy != "pick_first" && options.lb_policy != "round_robin") {
      return absl::InvalidArgumentError(
          absl::StrCat("--lb_policy must be pick_first or round_robin, not '", options.lb_policy, "'"));
    }
    args.SetLoadBalancingPolicyName(options.lb_policy);
  }
  if (!options.tls_server_name.empty()) args.SetSslTargetNameOverride(options.tls_server_name);
  return args;
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(const ChannelOptions& options) {
  absl::StatusOr<grpc::ChannelArguments> args = MakeChannelArguments(options);
  if (!args.ok()) return args.status();

  const bool tls = !options.tls_ca.empty() || !options.tls_cert.empty() || !options.tls_key.empty();
  if (!tls) return grpc::CreateCustomChannel(options.target, grpc::InsecureChannelCredentials(), *args);

  if (options.tls_cert.empty() != options.tls_key.empty()) {
    return absl::InvalidArgumentError("--tls_cert and --tls_key go together (mutual TLS needs both)");
  }
  grpc::SslCredentialsOptions ssl;
  for (auto [path, pem] :
       {std::pair{&options.tls_ca, &ssl.pem_root_certs}, std::pair{&options.tls_cert, &ssl.pem_cert_chain},
        std::pair{&options.tls_key, &ssl.pem_private_key}}) {
    if (path->empty()) continue;
    absl::StatusOr<std::string> contents = ReadFileBytes(*path);
    if (!contents.ok()) return contents.status();
    *pem = std::move(*contents);
  }
  return grpc::CreateCustomChannel(options.target, grpc::SslCredentials(ssl), *args);
}

void SetTimeout(grpc::ClientContext& context, int timeout_ms) {
  if (timeout_ms <= 0) return;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(timeout_ms));
}

}  // namespace vocr::client

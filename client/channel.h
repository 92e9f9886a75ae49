// How the client connects: target, load balancing, message size, TLS.
#ifndef VOCR_CLIENT_CHANNEL_H_
#define VOCR_CLIENT_CHANNEL_H_

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/support/channel_arguments.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "ocr/v1/ocr.pb.h"

namespace vocr::client {

struct ChannelOptions {
  // Anything gRPC resolves: "host:port", "dns:///host:port" (every address of
  // a headless Service), "ipv4:10.0.0.1:50051,10.0.0.2:50051".
  std::string target = "localhost:50051";
  // "" (gRPC's default, pick_first), "pick_first" or "round_robin". One
  // HTTP/2 connection carries every call, so behind a ClusterIP Service all
  // calls land on one pod; round_robin over a dns:/// target opens a
  // connection per resolved address and spreads the calls over them.
  std::string lb_policy;
  int max_message_mb = 16;
  // PEM files. All empty: plaintext. tls_ca alone: TLS that checks the server
  // against that CA (system roots when empty). tls_cert + tls_key: mutual TLS.
  std::string tls_ca;
  std::string tls_cert;
  std::string tls_key;
  // Overrides the name checked against the server certificate (tests, or
  // reaching a pod by IP); empty keeps the target's host name.
  std::string tls_server_name;
};

// The channel arguments for `options`; INVALID_ARGUMENT for an unknown
// policy or a message size outside 1..2047 MiB (gRPC takes an int of bytes).
absl::StatusOr<grpc::ChannelArguments> MakeChannelArguments(const ChannelOptions& options);

// A channel per `options`. The PEM files are read here, so a missing file is a
// NOT_FOUND before any call is made; a cert without a key (or the reverse) is
// INVALID_ARGUMENT. gRPC connects lazily: an unreachable server shows up as
// UNAVAILABLE on the first call, not here.
absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(const ChannelOptions& options);

// What every call carries.
struct CallOptions {
  int timeout_ms = 10000;    // per-call deadline; <= 0 means none
  ocr::v1::ModelSpec model;  // empty: the model the server serves
};

// Gives `context` a deadline `timeout_ms` from now (none when <= 0).
void SetTimeout(grpc::ClientContext& context, int timeout_ms);

}  // namespace vocr::client

#endif  // VOCR_CLIENT_CHANNEL_H_

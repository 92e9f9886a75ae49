// vocr_server: serves the ocr.v1 API over gRPC, health and reflection beside
// it, Prometheus metrics on their own port. Start-up order: metrics and gRPC
// listen first with health NOT_SERVING, then the bundle loads and warms up,
// then health turns SERVING. SIGTERM/SIGINT: health NOT_SERVING, in-flight
// calls finish (up to --drain_grace_s), the batcher drains, exit 0.
#include <ATen/Parallel.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <sched.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "server/core/metrics.h"
#include "server/core/ocr_core.h"
#include "server/flags_env.h"
#include "server/grpc/ocr_service.h"
#include "server/grpc/serving_gate.h"
#include "server/http/metrics_http.h"

// The health service name a Kubernetes liveness probe asks for.
constexpr char kLivenessService[] = "liveness";

ABSL_FLAG(std::string, host, "0.0.0.0", "Address to listen on for gRPC.");
ABSL_FLAG(int, port, 50051, "gRPC port (0 picks a free one; see --port_file).");
ABSL_FLAG(std::string, port_file, "", "If set, the bound gRPC port is written here once listening.");
ABSL_FLAG(int, metrics_port, 9090, "Port of the Prometheus /metrics endpoint (0: no metrics endpoint).");
ABSL_FLAG(
    std::string, model_path, "model/repository/vocr_line",
    "Bundle to serve: a model directory (its highest numeric version is served) or a version directory.");
ABSL_FLAG(int64_t, model_version, 0, "Serve this version of --model_path instead of the highest.");
ABSL_FLAG(int, max_batch_size, 8, "Most lines decoding together in one worker's loop (and per CNN run).");
ABSL_FLAG(int, max_queue_delay_us, 2000, "Longest a line waits for others to fill its batch, microseconds.");
ABSL_FLAG(int, queue_capacity, 256, "Lines that may wait; more are refused with RESOURCE_EXHAUSTED.");
ABSL_FLAG(int, bucket_width, 64,
          "Lines whose model widths fall in the same bucket of this many pixels batch together.");
ABSL_FLAG(int, workers, 2, "Decoding loops run at once (worker threads).");
ABSL_FLAG(bool, dispatch_when_idle, true,
          "When no batch is running, read a line at once instead of holding it max_queue_delay_us for "
          "batch-mates.");
ABSL_FLAG(bool, join_between_steps, false,
          "Queued lines join a running decoding loop between its steps (up to max_batch_size lines, "
          "no wider than its widest) when no worker is free. Off: measured slower with this model.");
ABSL_FLAG(bool, fill_from_other_buckets, true,
          "A batch taken from a due bucket is filled up to max_batch_size with the oldest lines of other "
          "buckets: the CNN runs per padded width, the encoder and decoder steps once for all.");
ABSL_FLAG(int, intra_op_threads, 1,
          "Threads one batch's CNN may use, shared among the batches running (a lone batch gets all, "
          "each of --workers busy batches gets this / workers); 0: the CPU cores. 1: measured fastest "
          "with this model.");
ABSL_FLAG(int, max_message_mb, 16, "Largest request message accepted, MiB.");
ABSL_FLAG(int64_t, max_image_pixels, 16 << 20,
          "Largest image accepted (width x height), checked before decoding.");
ABSL_FLAG(double, drain_grace_s, 20,
          "After SIGTERM, how long in-flight calls may take before they are cancelled.");
ABSL_FLAG(
    double, max_connection_age_s, 0,
    "Close client connections after this long (0: never), so long-lived clients re-resolve and spread.");
ABSL_FLAG(double, max_connection_age_grace_s, 10, "Time given to calls on a connection closed for its age.");
ABSL_FLAG(std::string, tls_cert, "", "PEM server certificate chain; with --tls_key enables TLS.");
ABSL_FLAG(std::string, tls_key, "", "PEM server private key.");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM CA bundle; when set, clients must present a certificate it signed (mTLS).");

namespace {

// Cores this process may run on (its CPU affinity; a container's cpuset).
int CpuCores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return 1;
}

// The flags this file defines, each also settable as VOCR_<NAME> (see flags_env.h).
std::vector<std::string> ServerFlagNames() {
  std::vector<std::string> names;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (absl::EndsWith(flag->Filename(), "server/main.cc")) names.push_back(std::string(name));
  }
  return names;
}

std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::cerr << "vocr_server: cannot read " << path << "\n";
    std::exit(2);
  }
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::shared_ptr<grpc::ServerCredentials> Credentials() {
  const std::string cert = absl::GetFlag(FLAGS_tls_cert), key = absl::GetFlag(FLAGS_tls_key);
  if (cert.empty() && key.empty()) return grpc::InsecureServerCredentials();
  if (cert.empty() || key.empty()) {
    std::cerr << "vocr_server: --tls_cert and --tls_key go together\n";
    std::exit(2);
  }
  grpc::SslServerCredentialsOptions options;
  options.pem_key_cert_pairs.push_back({ReadFileOrDie(key), ReadFileOrDie(cert)});
  if (const std::string ca = absl::GetFlag(FLAGS_tls_client_ca); !ca.empty()) {
    options.pem_root_certs = ReadFileOrDie(ca);
    options.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(options);
}

vocr::CoreOptions CoreOptionsFromFlags() {
  vocr::CoreOptions o;
  o.model_path = absl::GetFlag(FLAGS_model_path);
  o.model_version = absl::GetFlag(FLAGS_model_version);
  o.batcher.max_batch_size = std::max(1, absl::GetFlag(FLAGS_max_batch_size));
  o.batcher.max_queue_delay = absl::Microseconds(std::max(0, absl::GetFlag(FLAGS_max_queue_delay_us)));
  o.batcher.queue_capacity = std::max(1, absl::GetFlag(FLAGS_queue_capacity));
  o.batcher.bucket_width = std::max(1, absl::GetFlag(FLAGS_bucket_width));
  o.batcher.workers = std::max(1, absl::GetFlag(FLAGS_workers));
  o.batcher.cnn_threads = absl::GetFlag(FLAGS_intra_op_threads);
  if (o.batcher.cnn_threads <= 0) o.batcher.cnn_threads = CpuCores();
  o.batcher.dispatch_when_idle = absl::GetFlag(FLAGS_dispatch_when_idle);
  o.batcher.join_between_steps = absl::GetFlag(FLAGS_join_between_steps);
  o.batcher.fill_from_other_buckets = absl::GetFlag(FLAGS_fill_from_other_buckets);
  o.image_limits.max_pixels = absl::GetFlag(FLAGS_max_image_pixels);
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Serves Vietnamese text-line OCR over gRPC. Every flag is also read from VOCR_<FLAG>.");
  absl::ParseCommandLine(argc, argv);
  if (absl::Status env = vocr::ApplyEnvironment(ServerFlagNames(), argc, argv); !env.ok()) {
    std::cerr << "vocr_server: " << env.message() << "\n";
    return 2;
  }
  // Signals are waited for by sigwait below; block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  // One thread per worker for everything but the CNN, which gets the
  // threads the other workers leave idle (BatcherOptions::cnn_threads).
  at::set_num_threads(1);
  at::set_num_interop_threads(1);

  auto registry = std::make_shared<prometheus::Registry>();
  vocr::Metrics metrics(registry);
  std::unique_ptr<vocr::MetricsHttpServer> metrics_http;
  if (const int port = absl::GetFlag(FLAGS_metrics_port); port > 0) {
    auto started = vocr::MetricsHttpServer::Start("0.0.0.0", port, metrics.collectables());
    if (!started.ok()) {
      std::cerr << "vocr_server: " << started.status().message() << "\n";
      return 1;
    }
    metrics_http = *std::move(started);
  }

  vocr::ServingGate gate;
  vocr::OcrServiceImpl service(&gate, &metrics);
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int bound_port = 0;
  builder.AddListeningPort(absl::StrCat(absl::GetFlag(FLAGS_host), ":", absl::GetFlag(FLAGS_port)),
                           Credentials(), &bound_port);
  builder.RegisterService(&service);
  const int max_message = absl::GetFlag(FLAGS_max_message_mb) << 20;
  builder.SetMaxReceiveMessageSize(max_message);
  builder.SetMaxSendMessageSize(max_message);
  if (const double age = absl::GetFlag(FLAGS_max_connection_age_s); age > 0) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS, static_cast<int>(age * 1000));
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
                               static_cast<int>(absl::GetFlag(FLAGS_max_connection_age_grace_s) * 1000));
  }
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || bound_port == 0) {
    std::cerr << "vocr_server: cannot listen on " << absl::GetFlag(FLAGS_host) << ":"
              << absl::GetFlag(FLAGS_port) << "\n";
    return 1;
  }
  grpc::HealthCheckServiceInterface* health = server->GetHealthCheckService();
  // Readiness: "" and the service's own name, NOT_SERVING until the model is
  // loaded and warm and again while draining.
  auto set_ready = [health](bool ready) {
    health->SetServingStatus("", ready);
    health->SetServingStatus(ocr::v1::OcrService::service_full_name(), ready);
  };
  set_ready(false);
  // "liveness" answers SERVING whenever the process can answer at all, while
  // loading and while draining too, so a liveness probe never restarts a
  // server that is starting or finishing its calls (readiness uses "").
  health->SetServingStatus(kLivenessService, true);
  if (const std::string path = absl::GetFlag(FLAGS_port_file); !path.empty()) {
    std::ofstream(path + ".tmp") << bound_port << "\n";
    std::rename((path + ".tmp").c_str(), path.c_str());
  }
  std::cerr << "vocr_server: listening on port " << bound_port << ", loading "
            << absl::GetFlag(FLAGS_model_path) << "\n";

  absl::StatusOr<std::unique_ptr<vocr::OcrCore>> core =
      vocr::OcrCore::Create(CoreOptionsFromFlags(), &metrics);
  if (!core.ok()) {
    std::cerr << "vocr_server: cannot serve the bundle: " << core.status().message() << "\n";
    server->Shutdown();
    return 1;
  }
  const vocr::Manifest& m = (*core)->bundle().manifest();
  gate.Open(core->get());
  set_ready(true);
  std::cerr << "vocr_server: serving " << m.name << " version " << m.version << " (" << m.cnn.quantization
            << " CNN, " << m.seq.quantization << " decoder, engine " << m.engine << "; decoder products in "
            << ((*core)->bundle().seq_kernels().arithmetic() == vocr::Int8Linear::Arithmetic::kInt8
                    ? "int8 (VNNI)"
                    : "float32 on the int8 values (no VNNI: oneDNN's int8 kernels saturate)")
            << "), loaded in " << (*core)->bundle().load_seconds() << " s\n";

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  const double grace = absl::GetFlag(FLAGS_drain_grace_s);
  std::cerr << "vocr_server: signal " << signal_number << ", draining (grace " << grace << " s)\n";
  set_ready(false);
  (*core)->Shutdown();
  server->Shutdown(std::chrono::system_clock::now() +
                   std::chrono::milliseconds(static_cast<int64_t>(grace * 1000)));
  std::cerr << "vocr_server: stopped\n";
  return 0;
}

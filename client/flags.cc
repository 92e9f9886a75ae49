#include "client/flags.h"

#include <algorithm>
#include <cstdint>

#include "absl/flags/flag.h"
#include "client/cli_parse.h"

// Connection, for every command.
ABSL_FLAG(std::string, target, "localhost:50051",
          "Server address: host:port, dns:///host:port (all addresses a headless Service resolves to), "
          "ipv4:a:p,b:p, unix:path.");
ABSL_FLAG(
    std::string, lb_policy, "",
    "Load balancing over the target's addresses: pick_first or round_robin (one connection per address, "
    "calls spread over all). Empty: gRPC's default, pick_first.");
ABSL_FLAG(int32_t, timeout_ms, 10000, "Deadline of each call, in ms.");
ABSL_FLAG(int32_t, max_message_mb, 16, "Largest message sent or received, in MiB.");
ABSL_FLAG(std::string, tls_ca, "", "PEM file of the CA that signed the server's certificate; enables TLS.");
ABSL_FLAG(std::string, tls_cert, "", "PEM client certificate for mutual TLS (with --tls_key).");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert.");
ABSL_FLAG(std::string, tls_server_name, "",
          "Name to check the server certificate against, if not the target's.");
ABSL_FLAG(std::string, model_name, "", "Model to ask for; empty: the one served.");
ABSL_FLAG(int64_t, model_version, 0, "Model version to ask for; 0: the one served.");

// Output.
ABSL_FLAG(
    bool, json, false,
    "Machine-readable output on stdout: recognize prints one JSON object per file; info, eval and bench "
    "one object.");

// recognize, eval, bench.
ABSL_FLAG(bool, raw, false,
          "Decode images in the client and send RawImage pixels instead of the file's bytes.");

// recognize.
ABSL_FLAG(bool, batch, false, "recognize: send every file in one RecognizeBatch call.");

// health.
ABSL_FLAG(std::string, service, "", "health: service name to check; empty: the server as a whole.");

// eval and bench.
ABSL_FLAG(int32_t, concurrency, 4, "eval, bench: calls in flight at once (bench: closed loop).");
ABSL_FLAG(int32_t, batch_size, 1, "eval, bench: images per call; 1 uses Recognize, more use RecognizeBatch.");

// eval.
ABSL_FLAG(std::string, labels, "", "eval: labels file, lines of 'relative/path.png<TAB>expected text'.");
ABSL_FLAG(int32_t, errors, 0, "eval: also list this many lines with the most character errors.");

// bench.
ABSL_FLAG(double, rate, 0, "bench: open loop at this many calls/s instead of the closed loop.");
ABSL_FLAG(std::string, arrival, "poisson", "bench --rate: poisson or uniform spacing of calls.");
ABSL_FLAG(int32_t, max_outstanding, 256,
          "bench --rate: arrivals beyond this many calls in flight are dropped.");
ABSL_FLAG(double, duration_s, 10, "bench: measured time, in seconds.");
ABSL_FLAG(double, warmup_s, 2, "bench: time before the measurement whose calls are not counted.");
ABSL_FLAG(std::string, sweep, "", "bench: concurrency levels to run one after another, e.g. 1,2,4,8,16.");
ABSL_FLAG(bool, progress, false,
          "bench: print a progress line every second (on by default when stderr is a terminal).");
ABSL_FLAG(std::string, csv, "", "bench: write the report as CSV to this file (one row per sweep level).");
ABSL_FLAG(std::string, json_out, "", "bench: write the report as JSON to this file.");

namespace vocr::client {

ChannelOptions ChannelOptionsFromFlags() {
  ChannelOptions options;
  options.target = absl::GetFlag(FLAGS_target);
  options.lb_policy = absl::GetFlag(FLAGS_lb_policy);
  options.max_message_mb = absl::GetFlag(FLAGS_max_message_mb);
  options.tls_ca = absl::GetFlag(FLAGS_tls_ca);
  options.tls_cert = absl::GetFlag(FLAGS_tls_cert);
  options.tls_key = absl::GetFlag(FLAGS_tls_key);
  options.tls_server_name = absl::GetFlag(FLAGS_tls_server_name);
  return options;
}

CallOptions CallOptionsFromFlags() {
  CallOptions options;
  options.timeout_ms = absl::GetFlag(FLAGS_timeout_ms);
  options.model.set_name(absl::GetFlag(FLAGS_model_name));
  options.model.set_version(absl::GetFlag(FLAGS_model_version));
  return options;
}

RecognizeOptions RecognizeOptionsFromFlags() {
  RecognizeOptions options;
  options.call = CallOptionsFromFlags();
  options.raw = absl::GetFlag(FLAGS_raw);
  options.batch = absl::GetFlag(FLAGS_batch);
  options.json = absl::GetFlag(FLAGS_json);
  return options;
}

EvalOptions EvalOptionsFromFlags() {
  EvalOptions options;
  options.call = CallOptionsFromFlags();
  options.raw = absl::GetFlag(FLAGS_raw);
  options.concurrency = absl::GetFlag(FLAGS_concurrency);
  options.batch_size = absl::GetFlag(FLAGS_batch_size);
  options.worst = static_cast<size_t>(std::max(0, absl::GetFlag(FLAGS_errors)));
  options.json = absl::GetFlag(FLAGS_json);
  return options;
}

absl::StatusOr<BenchCommandOptions> BenchCommandOptionsFromFlags(bool stderr_is_terminal) {
  BenchCommandOptions options;
  BenchOptions& bench = options.bench;
  bench.call = CallOptionsFromFlags();
  bench.concurrency = absl::GetFlag(FLAGS_concurrency);
  bench.rate = absl::GetFlag(FLAGS_rate);
  absl::StatusOr<Arrival> arrival = ParseArrival(absl::GetFlag(FLAGS_arrival));
  if (!arrival.ok()) return arrival.status();
  bench.arrival = *arrival;
  bench.max_outstanding = absl::GetFlag(FLAGS_max_outstanding);
  bench.duration_s = absl::GetFlag(FLAGS_duration_s);
  bench.warmup_s = absl::GetFlag(FLAGS_warmup_s);
  bench.batch_size = absl::GetFlag(FLAGS_batch_size);
  bench.progress = absl::GetFlag(FLAGS_progress) || stderr_is_terminal;
  bench.progress_redraw = stderr_is_terminal;
  if (const std::string sweep = absl::GetFlag(FLAGS_sweep); !sweep.empty()) {
    absl::StatusOr<std::vector<int>> levels = ParseSweep(sweep);
    if (!levels.ok()) return levels.status();
    options.sweep = std::move(*levels);
  }
  options.raw = absl::GetFlag(FLAGS_raw);
  options.csv_path = absl::GetFlag(FLAGS_csv);
  options.json_path = absl::GetFlag(FLAGS_json_out);
  options.json = absl::GetFlag(FLAGS_json);
  return options;
}

bool JsonFlag() { return absl::GetFlag(FLAGS_json); }
std::string LabelsFlag() { return absl::GetFlag(FLAGS_labels); }
std::string ServiceFlag() { return absl::GetFlag(FLAGS_service); }

}  // namespace vocr::client

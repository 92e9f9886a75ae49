// ocr_client: the command-line client of vocr-serve. This file only picks the
// command and hands it the stub and the options read from the flags.
#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "client/bench_cmd.h"
#include "client/channel.h"
#include "client/eval_cmd.h"
#include "client/flags.h"
#include "client/health_cmd.h"
#include "client/info_cmd.h"
#include "client/recognize_cmd.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "ocr/v1/ocr.grpc.pb.h"

namespace {

constexpr char kUsage[] = R"(command-line client of vocr-serve (Vietnamese text-line OCR over gRPC).

usage: ocr_client COMMAND [ARGS...] [--flag=value...]

commands:
  recognize FILE...     print the text of each line image; exit 0 only if all were read
                        (--json, --batch, --raw)
  info                  the served model: version, quantization, sizes, evaluation (--json)
  health                grpc.health.v1 check; prints SERVING/NOT_SERVING, exit 0 only when
                        SERVING (--service)
  eval --labels FILE    CER, WER, exact-line accuracy over 'path<TAB>text' lines
                        (--concurrency, --batch_size, --errors, --json)
  bench FILE_OR_DIR...  load test: --concurrency N (closed loop) or --rate R (open loop),
                        --duration_s, --warmup_s, --batch_size, --sweep 1,2,4,8,16,
                        --csv FILE, --json_out FILE, --progress

connection (every command): --target host:port | dns:///host:port, --lb_policy round_robin,
  --timeout_ms, --max_message_mb, --tls_ca, --tls_cert, --tls_key, --model_name, --model_version

examples:
  ocr_client recognize line.png
  ocr_client --json recognize a.png b.png
  ocr_client eval --labels data/val/labels.tsv --errors 10
  ocr_client bench --sweep 1,2,4,8,16 --duration_s 20 --csv sweep.csv images/
  ocr_client --target dns:///vocr-headless:50051 --lb_policy round_robin bench --concurrency 32 images/

'ocr_client --help' lists every flag.)";

// --help lists only the client's own flags, not absl's or gRPC's.
bool IsClientFlagFile(absl::string_view file) { return absl::StrContains(file, "client/flags.cc"); }

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(kUsage);
  absl::FlagsUsageConfig usage_config;
  usage_config.contains_help_flags = IsClientFlagFile;
  usage_config.contains_helpshort_flags = IsClientFlagFile;
  absl::SetFlagsUsageConfig(usage_config);
  const std::vector<char*> args = absl::ParseCommandLine(argc, argv);

  if (args.size() < 2) {
    std::cerr << "ocr_client: " << kUsage << "\n";
    return 2;
  }
  const std::string command = args[1];
  const std::vector<std::string> operands(args.begin() + 2, args.end());
  if (command == "help") {
    std::cout << "ocr_client: " << kUsage << "\n";
    return 0;
  }

  // Docker's HEALTHCHECK takes any status but 0 and 1 as a broken check, so
  // health reports every failure as 1; other commands use 2 for bad usage.
  const int usage_error = command == "health" ? 1 : 2;
  if ((command == "info" || command == "health") && !operands.empty()) {
    std::cerr << "ocr_client: " << command << " takes no arguments\n";
    return usage_error;
  }
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      vocr::client::MakeChannel(vocr::client::ChannelOptionsFromFlags());
  if (!channel.ok()) {
    std::cerr << "ocr_client: " << channel.status().message() << "\n";
    return usage_error;
  }
  if (command == "health") {
    grpc::health::v1::Health::Stub health(*channel);
    return vocr::client::RunHealth(health, vocr::client::ServiceFlag(),
                                   vocr::client::CallOptionsFromFlags().timeout_ms, std::cout, std::cerr);
  }
  ocr::v1::OcrService::Stub stub(*channel);
  if (command == "recognize") {
    return vocr::client::RunRecognize(stub, operands, vocr::client::RecognizeOptionsFromFlags(), std::cout,
                                      std::cerr);
  }
  if (command == "info") {
    return vocr::client::RunInfo(stub, vocr::client::CallOptionsFromFlags(), vocr::client::JsonFlag(),
                                 std::cout, std::cerr);
  }
  if (command == "eval") {
    return vocr::client::RunEval(stub, vocr::client::LabelsFlag(), vocr::client::EvalOptionsFromFlags(),
                                 std::cout, std::cerr);
  }
  if (command == "bench") {
    absl::StatusOr<vocr::client::BenchCommandOptions> options =
        vocr::client::BenchCommandOptionsFromFlags(isatty(STDERR_FILENO) == 1);
    if (!options.ok()) {
      std::cerr << "bench: " << options.status().message() << "\n";
      return 2;
    }
    return vocr::client::RunBenchCommand(stub, operands, *options, std::cout, std::cerr);
  }
  std::cerr << "ocr_client: unknown command '" << command << "'; run 'ocr_client help'\n";
  return 2;
}

#include "client/info_cmd.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_format.h"
#include "client/recognition_json.h"
#include "client/status_names.h"

namespace vocr::client {
namespace {

std::string Mebibytes(int64_t bytes) { return absl::StrFormat("%.2f MiB", bytes / (1024.0 * 1024.0)); }

}  // namespace

void PrintModelInfo(const ocr::v1::ModelInfo& info, std::ostream& out) {
  const ocr::v1::InputSpec& input = info.input();
  out << absl::StrFormat("model       %s (version %d)\n", info.name(), info.version());
  if (!info.created().empty()) out << absl::StrFormat("created     %s\n", info.created());
  out << absl::StrFormat("engine      %s\n", info.engine());
  out << absl::StrFormat("vocabulary  %d symbols\n", info.vocab_size());
  out << absl::StrFormat(
      "input       height %d, %d channel(s), width %d..%d in multiples of %d, mean %g, std %g\n",
      input.height(), input.channels(), input.min_width(), input.max_width(), input.width_multiple(),
      input.mean(), input.std());
  out << absl::StrFormat("loaded in   %.2f s\n", info.load_seconds());

  int64_t total = 0;
  int64_t total_fp32 = 0;
  out << "parts\n";
  for (const ocr::v1::ModelPart& part : info.parts()) {
    total += part.bytes();
    total_fp32 += part.fp32_reference_bytes();
    out << absl::StrFormat("  %-4s %-24s %-14s %11s", part.name(), part.file(), part.quantization(),
                           Mebibytes(part.bytes()));
    if (part.fp32_reference_bytes() > 0 && part.bytes() > 0) {
      out << absl::StrFormat("  (fp32 %s, %.1fx smaller)", Mebibytes(part.fp32_reference_bytes()),
                             static_cast<double>(part.fp32_reference_bytes()) / part.bytes());
    }
    out << absl::StrFormat("  %d parameters  sha256 %s\n", part.parameters(), part.sha256().substr(0, 12));
  }
  if (info.parts_size() > 1) {
    out << absl::StrFormat("  total %s", Mebibytes(total));
    if (total_fp32 > 0) out << absl::StrFormat(" (fp32 %s)", Mebibytes(total_fp32));
    out << "\n";
  }

  if (!info.evaluation_json().empty()) {
    out << "evaluation\n";
    const nlohmann::ordered_json evaluation =
        nlohmann::ordered_json::parse(info.evaluation_json(), nullptr, false);
    const std::string text = evaluation.is_discarded() ? info.evaluation_json() : evaluation.dump(2);
    // Indent the whole block under the heading.
    out << "  ";
    for (char c : text) {
      out << c;
      if (c == '\n') out << "  ";
    }
    out << "\n";
  }
}

int RunInfo(ocr::v1::OcrService::StubInterface& stub, const CallOptions& options, bool json,
            std::ostream& out, std::ostream& err) {
  ocr::v1::GetModelInfoRequest request;
  *request.mutable_model() = options.model;
  ocr::v1::ModelInfo info;
  grpc::ClientContext context;
  SetTimeout(context, options.timeout_ms);
  const grpc::Status status = stub.GetModelInfo(&context, request, &info);
  if (!status.ok()) {
    err << "info: " << CodeName(status.error_code()) << ": " << status.error_message() << "\n";
    return 1;
  }
  if (json) {
    out << ModelInfoToJson(info).dump(2) << "\n";
  } else {
    PrintModelInfo(info, out);
  }
  return 0;
}

}  // namespace vocr::client

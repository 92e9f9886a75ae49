// `ocr_client eval --labels labels.tsv`: accuracy against labelled lines.
#ifndef VOCR_CLIENT_EVAL_CMD_H_
#define VOCR_CLIENT_EVAL_CMD_H_

#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "client/channel.h"
#include "client/eval_report.h"
#include "client/labels.h"
#include "ocr/v1/ocr.grpc.pb.h"

namespace vocr::client {

struct EvalOptions {
  CallOptions call;
  bool raw = false;
  int concurrency = 4;  // calls in flight at once
  int batch_size = 1;   // 1: Recognize per line; > 1: RecognizeBatch of that many lines
  size_t worst = 0;     // how many of the worst lines to list
  bool json = false;
};

// What RecognizeLabeled found, line by line in labels order.
struct EvalRun {
  std::vector<EvalLine> lines;
  std::map<std::string, size_t> failed_calls_by_code;
  double seconds = 0;  // recognition only, image loading excluded
};

// Loads every image first (so disk time does not count against the server),
// then recognises them with `concurrency` threads on the blocking stub, each
// taking the next `batch_size` lines. Never fails as a whole: each line
// carries its own outcome.
EvalRun RecognizeLabeled(ocr::v1::OcrService::StubInterface& stub, const std::vector<LabeledLine>& labels,
                         const EvalOptions& options);

// Reads the labels, runs the evaluation, prints the report (text, or one JSON
// object). Returns 0 when the run completed, even with failed lines (they
// are reported and scored); 1 if the labels cannot be read or nothing could
// be recognised at all; 2 for bad options.
int RunEval(ocr::v1::OcrService::StubInterface& stub, const std::string& labels_path,
            const EvalOptions& options, std::ostream& out, std::ostream& err);

}  // namespace vocr::client

#endif  // VOCR_CLIENT_EVAL_CMD_H_

// Scoring an evaluation run: CER, WER, exact lines, failures, worst lines.
#ifndef VOCR_CLIENT_EVAL_REPORT_H_
#define VOCR_CLIENT_EVAL_REPORT_H_

#include <cstddef>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "client/text_metrics.h"

namespace vocr::client {

// One labelled image and what became of it.
struct EvalLine {
  std::string path;
  std::string reference;
  std::string hypothesis;  // empty when the line failed
  std::string error_code;  // "" when recognised, else e.g. "INVALID_ARGUMENT"
  std::string error_message;
};

struct WorstLine {
  EvalLine line;
  LineScore score;
};

struct EvalReport {
  ErrorRates rates;
  size_t failed_lines = 0;
  std::map<std::string, size_t> failed_lines_by_code;  // per line, load errors included
  std::map<std::string, size_t> failed_calls_by_code;  // per RPC (a failed batch is one call)
  double seconds = 0;                                  // wall time of the recognition phase
  double lines_per_s = 0;
  std::vector<WorstLine> worst;
};

// Scores every line. A failed line counts as an empty hypothesis (all of its
// reference missed), so failures cannot flatter the error rates. `worst_count`
// lines with the most character errors are kept (ties: higher per-line CER
// first, then labels order); lines without errors are never listed.
EvalReport ScoreEval(const std::vector<EvalLine>& lines,
                     const std::map<std::string, size_t>& failed_calls_by_code, double seconds,
                     size_t worst_count);

void PrintEvalReport(const EvalReport& report, std::ostream& out);
nlohmann::ordered_json EvalReportToJson(const EvalReport& report);

}  // namespace vocr::client

#endif  // VOCR_CLIENT_EVAL_REPORT_H_

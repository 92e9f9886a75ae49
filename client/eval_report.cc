#include "client/eval_report.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/recognition_json.h"

namespace vocr::client {
namespace {

double LineCer(const LineScore& score) {
  return score.ref_chars == 0 ? static_cast<double>(score.char_errors)
                              : static_cast<double>(score.char_errors) / static_cast<double>(score.ref_chars);
}

std::string CountsByCode(const std::map<std::string, size_t>& counts) {
  return absl::StrJoin(counts, ", ", [](std::string* out, const auto& entry) {
    absl::StrAppend(out, entry.first, " ", entry.second);
  });
}

}  // namespace

EvalReport ScoreEval(const std::vector<EvalLine>& lines,
                     const std::map<std::string, size_t>& failed_calls_by_code, double seconds,
                     size_t worst_count) {
  EvalReport report;
  report.failed_calls_by_code = failed_calls_by_code;
  report.seconds = seconds;
  report.lines_per_s = seconds > 0 ? static_cast<double>(lines.size()) / seconds : 0;
  std::vector<WorstLine> scored;
  for (const EvalLine& line : lines) {
    const LineScore score = ScoreLine(line.reference, line.hypothesis);
    report.rates.Add(score);
    if (!line.error_code.empty()) {
      ++report.failed_lines;
      ++report.failed_lines_by_code[line.error_code];
    }
    if (score.char_errors > 0 || !line.error_code.empty()) scored.push_back({line, score});
  }
  // stable_sort keeps labels order among equals.
  std::stable_sort(scored.begin(), scored.end(), [](const WorstLine& a, const WorstLine& b) {
    if (a.score.char_errors != b.score.char_errors) return a.score.char_errors > b.score.char_errors;
    return LineCer(a.score) > LineCer(b.score);
  });
  if (scored.size() > worst_count) scored.resize(worst_count);
  report.worst = std::move(scored);
  return report;
}

void PrintEvalReport(const EvalReport& report, std::ostream& out) {
  const ErrorRates& r = report.rates;
  out << absl::StrFormat("lines        %d (%d failed)\n", r.lines(), report.failed_lines);
  out << absl::StrFormat("CER          %.2f%%  (%d / %d characters)\n", r.CerPercent(), r.char_errors(),
                         r.ref_chars());
  out << absl::StrFormat("WER          %.2f%%  (%d / %d words)\n", r.WerPercent(), r.word_errors(),
                         r.ref_words());
  out << absl::StrFormat("exact lines  %.2f%%  (%d / %d)\n", r.ExactPercent(), r.exact_lines(), r.lines());
  out << absl::StrFormat("throughput   %.1f lines/s  (%.2f s)\n", report.lines_per_s, report.seconds);
  if (!report.failed_calls_by_code.empty()) {
    out << "failed calls " << CountsByCode(report.failed_calls_by_code) << "\n";
  }
  if (report.failed_lines > 0) {
    out << "failed lines " << CountsByCode(report.failed_lines_by_code) << " (scored as empty output)\n";
  }
  if (!report.worst.empty()) {
    out << "worst lines\n";
    for (const WorstLine& w : report.worst) {
      out << absl::StrFormat("  %s  %d errors / %d chars\n", w.line.path, w.score.char_errors,
                             w.score.ref_chars);
      out << "    expected: " << w.line.reference << "\n";
      if (w.line.error_code.empty()) {
        out << "    got:      " << w.line.hypothesis << "\n";
      } else {
        out << "    failed:   " << w.line.error_code << ": " << w.line.error_message << "\n";
      }
    }
  }
}

nlohmann::ordered_json EvalReportToJson(const EvalReport& report) {
  const ErrorRates& r = report.rates;
  nlohmann::ordered_json worst = nlohmann::ordered_json::array();
  for (const WorstLine& w : report.worst) {
    nlohmann::ordered_json entry = {{"file", w.line.path},
                                    {"expected", w.line.reference},
                                    {"got", w.line.hypothesis},
                                    {"char_errors", w.score.char_errors},
                                    {"ref_chars", w.score.ref_chars}};
    if (!w.line.error_code.empty()) {
      entry["code"] = w.line.error_code;
      entry["message"] = w.line.error_message;
    }
    worst.push_back(std::move(entry));
  }
  return {
      {"lines", r.lines()},
      {"failed_lines", report.failed_lines},
      {"cer_percent", Round6(r.CerPercent())},
      {"wer_percent", Round6(r.WerPercent())},
      {"exact_percent", Round6(r.ExactPercent())},
      {"char_errors", r.char_errors()},
      {"ref_chars", r.ref_chars()},
      {"word_errors", r.word_errors()},
      {"ref_words", r.ref_words()},
      {"exact_lines", r.exact_lines()},
      {"seconds", Round6(report.seconds)},
      {"lines_per_s", Round6(report.lines_per_s)},
      {"failed_calls_by_code", report.failed_calls_by_code},
      {"failed_lines_by_code", report.failed_lines_by_code},
      {"worst", std::move(worst)},
  };
}

}  // namespace vocr::client

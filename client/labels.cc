#include "client/labels.h"

#include <filesystem>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "client/images.h"

namespace vocr::client {
namespace {

bool IsBlank(absl::string_view line) { return line.find_first_not_of(" \t") == absl::string_view::npos; }

}  // namespace

absl::StatusOr<std::vector<LabeledLine>> ParseLabels(absl::string_view content, absl::string_view base_dir,
                                                     absl::string_view source_name) {
  absl::ConsumePrefix(&content, "\xEF\xBB\xBF");
  std::vector<LabeledLine> lines;
  int line_number = 0;
  while (!content.empty()) {
    const size_t end = content.find('\n');
    absl::string_view line = content.substr(0, end);
    content = end == absl::string_view::npos ? absl::string_view() : content.substr(end + 1);
    ++line_number;
    absl::ConsumeSuffix(&line, "\r");
    if (IsBlank(line)) continue;

    const size_t tab = line.find('\t');
    if (tab == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat(source_name, ":", line_number, ": no tab between the image path and the text"));
    }
    const absl::string_view path = line.substr(0, tab);
    if (path.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(source_name, ":", line_number, ": empty image path"));
    }
    std::filesystem::path resolved(std::string{path});
    if (resolved.is_relative() && !base_dir.empty())
      resolved = std::filesystem::path(std::string(base_dir)) / resolved;
    lines.push_back({resolved.lexically_normal().string(), std::string(line.substr(tab + 1)), line_number});
  }
  return lines;
}

absl::StatusOr<std::vector<LabeledLine>> ReadLabelsFile(const std::string& path) {
  absl::StatusOr<std::string> content = ReadFileBytes(path);
  if (!content.ok()) return content.status();
  const std::string base_dir = std::filesystem::path(path).parent_path().string();
  return ParseLabels(*content, base_dir, path);
}

}  // namespace vocr::client

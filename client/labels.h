// labels.tsv: one "relative/path.png<TAB>expected text" per line.
#ifndef VOCR_CLIENT_LABELS_H_
#define VOCR_CLIENT_LABELS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vocr::client {

struct LabeledLine {
  std::string path;  // resolved against the labels file's directory
  std::string text;  // expected text, may be empty (a blank line image)
  int line_number = 0;
};

// Parses labels text. Lines may end in LF or CRLF; blank lines are skipped; a
// leading UTF-8 byte-order mark is ignored. The path ends at the first tab and
// the text is everything after it, kept as is (a text may contain tabs or
// leading spaces, which are part of the label). Relative paths are joined to
// `base_dir`. A non-blank line without a tab, or with an empty path, is an
// INVALID_ARGUMENT naming `source_name` and the line number: a silently
// skipped line would make the score look better than it is.
absl::StatusOr<std::vector<LabeledLine>> ParseLabels(absl::string_view content, absl::string_view base_dir,
                                                     absl::string_view source_name);

// Reads and parses a labels file; paths are relative to its directory.
absl::StatusOr<std::vector<LabeledLine>> ReadLabelsFile(const std::string& path);

}  // namespace vocr::client

#endif  // VOCR_CLIENT_LABELS_H_

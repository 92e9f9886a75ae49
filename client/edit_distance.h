// Levenshtein distance between two sequences (code points or words).
#ifndef VOCR_CLIENT_EDIT_DISTANCE_H_
#define VOCR_CLIENT_EDIT_DISTANCE_H_

#include <algorithm>
#include <cstddef>
#include <numeric>
#include <vector>

namespace vocr::client {

// Fewest insertions, deletions and substitutions that turn `a` into `b`, each
// costing 1. Two rows of the dynamic programme, O(|a|*|b|) time and O(|b|)
// memory: text lines are short, so nothing cleverer is needed.
template <typename T>
size_t EditDistance(const std::vector<T>& a, const std::vector<T>& b) {
  std::vector<size_t> previous(b.size() + 1);
  std::vector<size_t> current(b.size() + 1);
  std::iota(previous.begin(), previous.end(), size_t{0});
  for (size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t substitute = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, substitute});
    }
    std::swap(previous, current);
  }
  return previous[b.size()];
}

}  // namespace vocr::client

#endif  // VOCR_CLIENT_EDIT_DISTANCE_H_

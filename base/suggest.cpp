#include "base/suggest.h"

#include <algorithm>
#include <limits>

namespace dfb {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // Two-row dynamic programming: prev[j] is the distance between a[0, i) and b[0, j).
  std::vector<std::size_t> prev(b.size() + 1);
  std::vector<std::size_t> cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t substitute = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      std::size_t remove = prev[j] + 1;
      std::size_t insert = cur[j - 1] + 1;
      cur[j] = std::min({substitute, remove, insert});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string closest_match(std::string_view name, const std::vector<std::string>& candidates) {
  const std::size_t limit = std::max<std::size_t>(2, name.size() / 3);
  std::size_t best_distance = std::numeric_limits<std::size_t>::max();
  const std::string* best = nullptr;
  for (const std::string& candidate : candidates) {
    std::size_t d = edit_distance(name, candidate);
    if (d <= limit && d < best_distance) {
      best_distance = d;
      best = &candidate;
    }
  }
  return best ? *best : std::string();
}

std::string unknown_name_message(std::string_view kind, std::string_view name,
                                 const std::vector<std::string>& candidates) {
  std::string message = "unknown ";
  message.append(kind).append(" '").append(name).append("'");
  std::string best = closest_match(name, candidates);
  if (!best.empty()) message += ", did you mean '" + best + "'?";
  if (candidates.empty()) {
    message += " (none available)";
    return message;
  }
  message += best.empty() ? "; available: " : " available: ";
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    if (i > 0) message += ", ";
    message += candidates[i];
  }
  return message;
}

}  // namespace dfb

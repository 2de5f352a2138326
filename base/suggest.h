// "Did you mean" support shared by the config reader and the registries.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace dfb {

// Levenshtein distance (insert, delete, substitute; each costs 1).
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate nearest to `name` when it is plausibly a typo of it
// (distance <= max(2, name.size() / 3)), else "". Ties: the first in order.
std::string closest_match(std::string_view name, const std::vector<std::string>& candidates);

// "unknown <kind> '<name>', did you mean '<best>'? available: a, b, c"
// (the "did you mean" part only when closest_match finds one).
std::string unknown_name_message(std::string_view kind, std::string_view name,
                                 const std::vector<std::string>& candidates);

}  // namespace dfb

// The shape-count check of a rollout file (a first quality check): the
// share of generated frames that show the right number of shapes, within T_train
// and in the window of T_train frames that ends at each multiple k·T_train.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "formats/clips.h"

namespace dfb {

struct ShapeShare {
  std::string window;   // "within T_train", "at 2x", ...
  int64_t first = 0;    // frame indices [first, last) counted from the first frame of the file
  int64_t last = 0;
  int64_t frames = 0;   // generated frames in the window (all rollouts)
  double generated = 0; // share with the right count
  double truth = 0;     // the same share on the ground truth (occlusion keeps it below 1)
};

// `expected`: the number of objects. Only frames with index >= context count.
// Windows: [context, T) and [(k−1)·T, k·T) for k in multiples where k·T <= length.
std::vector<ShapeShare> shape_count_shares(const Clips& generated, const Clips& truth, int expected, int64_t context,
                                           int64_t t_train, const std::vector<int64_t>& multiples = {2, 4, 8});

nlohmann::json to_json(const std::vector<ShapeShare>& shares);
// A small aligned table for the terminal.
std::string format_table(const std::string& method, const std::vector<ShapeShare>& shares);
// One table of several methods: a row per method, a column per window, the ground truth last.
std::string format_comparison(const std::vector<std::pair<std::string, std::vector<ShapeShare>>>& methods);

}  // namespace dfb

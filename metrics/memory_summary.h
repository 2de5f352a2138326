// The memory section of metrics.json (docs/metrics.md, "Memory"): per method and gap length G
// the memory scores' means with bootstrap intervals (seeds and clips resampled as crossed
// factors, as the curves are), the chance level of each, and the memory horizon. Torch-free.
#pragma once
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "metrics/curves.h"
#include "metrics/memory.h"

namespace dfb {

// One method (or the truth) on the memory data: per gap length its scores, one vector per
// seed (every seed the same clips, in the same order), and the chance scores of those clips.
struct MemorySet {
  std::string name;
  // What the model conditions on: a window of this many frames (unet3d: T_train), 0 for a
  // recurrent state that carries the whole past (convgru), −1 unknown (rollouts of other models).
  int64_t window = -1;
  int64_t sink = 0;  // the rollouts' attention sink (frames from the start kept in the window)
  std::map<int64_t, std::vector<std::vector<MemoryScore>>> by_gap;
  std::map<int64_t, std::vector<MemoryScore>> chance;
};

// The largest gap G_j (gaps ascending) such that recall(G_i) > chance(G_i) + margin for every
// i <= j; 0 when the smallest gap already fails (or there is none). NaN recalls fail.
int64_t memory_horizon(const std::vector<int64_t>& gaps, const std::vector<double>& recall,
                       const std::vector<double>& chance, double margin);

// {"version", "frames_after", "horizon_margin", "methods": {name: {"window", "gaps": [{"gap", "rollouts",
// "seeds", "colour_recall", "count_right", "position_error" (each {mean, lo, hi}), "chance": {...},
// "blind": G >= window for a windowed model without a sink}], "horizon": {mean, lo, hi, "censored"}}}}. censored: recall
// stayed above chance at every gap measured. blind: the window holds none of the frames before the gap,
// so the model cannot remember them by construction and its recall there is chance by design.
nlohmann::json summarize_memory(const std::vector<MemorySet>& sets, const MemoryOptions& memory,
                                const BootstrapOptions& bootstrap);

}  // namespace dfb

// Reading rollout files for evaluation (docs/formats.md, "Rollout files"): every method
// group of a file, one at a time, checked before any metric is computed. Besides the
// uint8 frames dfbench writes, a method's frames may be float32/float64 in [0, 1], as
// another program may store them; NaN, infinite or out-of-range values are an error
// naming the file, method, rollout and frame. Torch-free.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "datasets/clips.h"

namespace dfb {

struct RolloutFile {
  std::string path;
  int64_t context = 0, t_train = 0;
  std::vector<std::string> methods;  // every group except /truth, sorted
  Clips truth;                       // frames, and states/colors where the file has them
};

// Reads the attributes and /truth, and checks every method's layout against it. Throws
// dfb::Error naming the file and the problem (not a rollout file, no method, a method whose
// frames have another shape than the truth, context >= length, ...).
RolloutFile open_rollout_file(const std::string& path);
// One method's frames, validated (as uint8 [B, L, H, W, C]).
Clips read_method_frames(const RolloutFile& file, const std::string& method);

}  // namespace dfb

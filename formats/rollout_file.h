// Rollout files (docs/formats.md, "Rollout files"), their one reader and writer:
//   /<method>/frames  uint8 [B, L, H, W, C]  context frames first
//   /truth/frames     uint8 [B, L, H, W, C]  the ground-truth continuation
//   /truth/states, /truth/colors              where the data has true states
//   /truth/visible    uint8 [B, L, K]        which objects each true frame shows (memory data), optional
//   attributes on "/": format = "dfbench rollouts", schema_version, context, t_train;
//   on /<method>: checkpoint_step, steps, eta, config, stage_key
// dfbench writes one method per file; evaluation reads files with any number of method
// groups, one at a time, checked before any metric is computed. Besides the uint8 frames
// dfbench writes, a method's frames may be float32/float64 in [0, 1], as another program may
// store them; NaN, infinite or out-of-range values are an error naming the file, method,
// rollout and frame. Torch-free.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "formats/clips.h"

namespace dfb {

constexpr int64_t kRolloutSchemaVersion = 1;

// One method's rollouts and the truth they continue, as dfbench writes them.
struct Rollouts {
  std::string method;
  int64_t context = 0, t_train = 0, checkpoint_step = 0;
  int64_t steps = 0;        // sampling steps and DDIM η the rollouts were made with (0 when unknown)
  double eta = 0;
  std::string config_json;  // the run's resolved config ("" when unknown)
  std::string stage_key;    // reproduce's key of what made these rollouts ("" outside reproduce)
  Clips generated, truth;
  int64_t backbone_calls = 0;  // not stored: what making them cost
};

void write_rollout_file(const std::string& path, const Rollouts& rollouts);
// The file's one method with the truth (an error when it holds several: open_rollout_file
// reads those), validated like open_rollout_file; errors name the file.
Rollouts read_rollout_file(const std::string& path);

struct RolloutFile {
  std::string path;
  int64_t context = 0, t_train = 0;
  std::vector<std::string> methods;  // every group except /truth, sorted
  Clips truth;                       // frames, and states/colors where the file has them
  std::map<std::string, std::string> configs;  // method → its `config` attribute (JSON), where it has one
};

// Reads the attributes and /truth, and checks every method's layout against it. Throws
// dfb::Error naming the file and the problem (not a rollout file, no method, a method whose
// frames have another shape than the truth, context >= length, ...).
RolloutFile open_rollout_file(const std::string& path);
// One method's frames, validated (as uint8 [B, L, H, W, C]).
Clips read_method_frames(const RolloutFile& file, const std::string& method);
// Rollout `index` of a method (or of "truth") alone, as Clips of count 1, validated the same way.
Clips read_one_rollout(const RolloutFile& file, const std::string& group, int64_t index);

}  // namespace dfb

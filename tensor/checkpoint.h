// Checkpoints (docs/design.md §7): one HDF5 file per saved step under RUN/checkpoints/,
// holding named float32 tensors (model, EMA, optimizer moments), the step, the
// seed the per-step RNG derives from, and the resolved config. Written atomically; each tensor
// carries a checksum that read_checkpoint verifies (docs/reliability.md).
#pragma once
#include <torch/types.h>

#include <map>
#include <string>
#include <vector>

#include "tensor/named_tensors.h"

namespace dfb {

constexpr int64_t kCheckpointSchemaVersion = 1;

struct CheckpointData {
  int64_t step = 0;            // training steps completed
  uint64_t seed = 0;           // the RNG of step s is make_generator(step_seed(seed, s)): no other RNG state exists
  std::string config_json;     // resolved config of the run
  std::string torch_version;   // LibTorch that wrote it
  std::map<std::string, torch::Tensor> tensors;  // "<group>/<name>", CPU float32
};

// groups: e.g. {"model", model tensors}, {"ema", ...}, {"optim", adam.state()}
void write_checkpoint(const std::string& path, int64_t step, uint64_t seed, const std::string& config_json,
                      const std::vector<std::pair<std::string, NamedTensors>>& groups);
// Throws dfb::Error naming the file: missing, corrupt, not a dfbench checkpoint, wrong schema.
CheckpointData read_checkpoint(const std::string& path);

// "RUN/checkpoints/step_000500.h5" for step 500.
std::string checkpoint_path(const std::string& run_dir, int64_t step);
// The checkpoint with the highest step in RUN/checkpoints ("" when there is none).
std::string latest_checkpoint(const std::string& run_dir);
// The newest checkpoint that reads back whole (every tensor against its checksum), or "" when
// none does. A damaged one is renamed to "<file>.damaged" (kept for inspection, no longer seen
// as a checkpoint) and `note` (when given) gets a line saying which, why and what comes next.
// `data` (when given) receives the checkpoint read, so that it is not read again.
std::string latest_intact_checkpoint(const std::string& run_dir, std::string* note = nullptr,
                                     CheckpointData* data = nullptr);
// Deletes all but the newest `keep` checkpoints.
void prune_checkpoints(const std::string& run_dir, int64_t keep);

}  // namespace dfb

// Rolling a trained run out (dfbench sample): EMA weights of a checkpoint,
// evaluation clips as context and ground truth, the method's rollout in batches,
// and the rollout file (docs/formats.md):
//   /<method>/frames  uint8 [B, L, H, W, C]  context frames first
//   /truth/frames     uint8 [B, L, H, W, C]  the ground-truth continuation
//   /truth/states, /truth/colors              where the data has true states
//   attributes on "/": format = "dfbench rollouts", schema_version, context, t_train
#pragma once
#include <string>

#include "core/run_config.h"
#include "datasets/clips.h"

namespace dfb {

constexpr int64_t kRolloutSchemaVersion = 1;

struct SampleRequest {
  int64_t context = 2, length = 64, count = 16, batch = 16;
  int64_t steps = 10;       // sampling steps S
  double eta = 0.0;         // DDIM η
  uint64_t seed = 0;        // rollout noise; the generator of batch i is seeded by step_seed(seed, i)
  std::string checkpoint;   // "" = the run's latest
  bool quiet = false;
};

struct SampleResult {
  std::string method;
  int64_t context = 0, t_train = 0, checkpoint_step = 0;
  int64_t steps = 0;        // sampling steps and DDIM η the rollouts were made with (0 when unknown)
  double eta = 0;
  std::string config_json;  // the run's resolved config ("" when unknown)
  std::string stage_key;    // reproduce's key of what made these rollouts ("" outside reproduce)
  Clips generated, truth;
  int64_t backbone_calls = 0;
};

// A request filled from the run config's sample section.
SampleRequest default_request(const RunConfig& config);
SampleResult sample_run(const RunConfig& config, const std::string& run_dir, const SampleRequest& request);

void write_rollout_file(const std::string& path, const SampleResult& result);
// Reads the method's rollouts and the truth back (validated; errors name the file).
SampleResult read_rollout_file(const std::string& path);

}  // namespace dfb

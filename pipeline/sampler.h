// Rolling a trained run out (dfbench sample): EMA weights of a checkpoint, evaluation
// clips as context and ground truth, the method's rollout in batches; the result is what
// a rollout file holds (formats/rollout_file.h).
#pragma once
#include <string>

#include "pipeline/run_config.h"
#include "formats/rollout_file.h"

namespace dfb {

struct SampleRequest {
  int64_t context = 2, length = 64, count = 16, batch = 16;
  int64_t steps = 10;       // sampling steps S
  int64_t sink = 0;         // attention sink (RolloutOptions::sink)
  double eta = 0.0;         // DDIM η
  Precision precision = Precision::kFp32;  // of the backbone's calls
  uint64_t seed = 0;        // rollout noise; the generator of batch i is seeded by step_seed(seed, i)
  std::string checkpoint;   // "" = the run's latest
  std::string clips_file;   // dataset file whose first clips are continued; "" = the config's evaluation clips
  bool quiet = false;
};

// A request filled from the run config's sample section.
SampleRequest default_request(const RunConfig& config);
Rollouts sample_run(const RunConfig& config, const std::string& run_dir, const SampleRequest& request);

}  // namespace dfb

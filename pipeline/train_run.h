// Training a run from its config: the trainer (train/trainer.h) with the config's method,
// backbone, data and seed, into the run folder.
#pragma once
#include <string>

#include "pipeline/run_config.h"
#include "train/trainer.h"

namespace dfb {

// Trains `config` into run_dir (see train()).
TrainSummary train_run(const RunConfig& config, const std::string& run_dir, const TrainRunOptions& options = {});

// The config stored in RUN/config.json (an error naming the file when missing or broken).
RunConfig load_run_config(const std::string& run_dir);

}  // namespace dfb

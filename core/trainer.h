// The trainer (DESIGN §4, §7): AdamW with warmup and cosine decay, global-norm
// clipping, EMA weights (used for sampling), checkpoints every N steps and at the
// end, train_log.jsonl, progress, exact resume. Every random draw of step s comes
// from a generator seeded by step_seed(seed, s), so a resumed run equals an
// uninterrupted one bit for bit (same device, same thread count).
#pragma once
#include <string>

#include "core/run_config.h"

namespace dfb {

struct TrainRunOptions {
  bool resume = false;      // continue from RUN's latest checkpoint (an error when there is none)
  int64_t stop_after = -1;  // stop (with a checkpoint) after this many steps of this call; -1 = run to the end
  bool quiet = false;       // no progress display
};

struct TrainSummary {
  int64_t start_step = 0, end_step = 0;
  double last_loss = 0;  // mean loss of the last logging interval
  double seconds = 0;
  double data_wait_seconds = 0;  // time the steps waited for the data reader
  std::string checkpoint;  // the checkpoint written last
};

// The learning rate of step `step` (0-based).
double learning_rate(const TrainConfig& t, int64_t step);

// Trains `config` into run_dir. A fresh start writes config.json and env.json first and refuses
// a directory that already holds checkpoints. NaN or infinite loss stops with dfb::Error, keeping
// the last good checkpoint.
TrainSummary train_run(const RunConfig& config, const std::string& run_dir, const TrainRunOptions& options = {});

// The config stored in RUN/config.json (an error naming the file when missing or broken).
RunConfig load_run_config(const std::string& run_dir);

}  // namespace dfb

// The trainer (docs/design.md §4, §7): AdamW with warmup and cosine decay, global-norm
// clipping, EMA weights (used for sampling), checkpoints every N steps and at the
// end, train_log.jsonl, progress, exact resume. Every random draw of step s comes
// from a generator seeded by step_seed(seed, s), so a resumed run equals an
// uninterrupted one bit for bit (same device, same thread count).
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "backbones/backbone.h"
#include "diffusion/diffusion.h"
#include "formats/clip_stream.h"
#include "rollout/method.h"
#include "train/distributed.h"
#include "train/train_config.h"

namespace dfb {

struct TrainRunOptions {
  bool resume = false;      // continue from RUN's latest checkpoint (an error when there is none)
  int64_t stop_after = -1;  // stop (with a checkpoint) after this many steps of this call; -1 = run to the end
  bool quiet = false;       // no progress display
  // SIGUSR1 or SIGTERM during training: checkpoint after the current step and throw dfb::Stopped
  // (base/stop_signal.h), instead of dying without the steps since the last checkpoint.
  bool stop_on_signal = false;
  // One of several processes training together (train/distributed.h), or null: alone. Each
  // takes its share of every global batch (train.batch must divide by the world size), the
  // gradients are summed, and only rank 0 writes the run folder.
  Communicator* world = nullptr;
};

struct TrainSummary {
  int64_t start_step = 0, end_step = 0;
  double last_loss = 0;  // mean loss of the last logging interval
  double seconds = 0;
  double data_wait_seconds = 0;  // time the steps waited for the data reader
  std::string checkpoint;  // the checkpoint written last
};

// What one training run is made of, assembled by its caller (pipeline/train_run.h builds it
// from a run config); the trainer owns the loop, the run folder and the randomness.
struct TrainInputs {
  std::string name;                // shown in progress lines
  uint64_t seed = 0;               // weight initialisation, and step s draws from step_seed(seed, s)
  std::string device = "cpu";
  std::string config_text;         // the resolved config: config.json, and in every checkpoint
  std::string environment_json;    // env.json
  std::string backbone_name;       // shown in the first line
  DiffusionOptions diffusion;
  TrainConfig train;
  const Method* method = nullptr;  // its training levels
  std::function<Backbone()> make_backbone;                  // a fresh backbone (the model, then the EMA)
  std::function<std::unique_ptr<ClipSource>()> open_data;   // the training clips by index
  // Optional: named scores of the EMA weights on held-out data (pipeline/validation.h), logged
  // every train.validate_every steps and at the end. It must leave the weights and every
  // generator of the training as it found them, so a run with it trains bit for bit as one without.
  std::function<std::map<std::string, double>(Backbone& ema)> validate;
};

// Trains into run_dir. A fresh start writes config.json and env.json first and refuses a
// directory that already holds checkpoints. NaN or infinite loss stops with dfb::Error,
// keeping the last good checkpoint.
TrainSummary train(const TrainInputs& inputs, const std::string& run_dir, const TrainRunOptions& options = {});

}  // namespace dfb

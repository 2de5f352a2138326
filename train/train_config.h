// The training section of a run config (docs/design.md §4.7): the window, the budget,
// AdamW with warmup and cosine decay, clipping, EMA, checkpoints and logging.
#pragma once
#include <cstdint>

#include "tensor/precision.h"

namespace dfb {

struct TrainConfig {
  int64_t frames = 8;          // T_train: frames per training window (also the model's window)
  int64_t steps = 500;
  int64_t batch = 16;
  double lr = 2e-3;
  int64_t warmup = 50;         // linear warmup steps, then cosine decay to lr · min_lr_ratio
  double min_lr_ratio = 0.1;
  double weight_decay = 0.0;
  double beta1 = 0.9, beta2 = 0.99;
  double grad_clip = 1.0;      // global norm; 0 disables
  double ema_decay = 0.995;
  int64_t checkpoint_every = 100;
  int64_t log_every = 10;
  int64_t validate_every = 150;  // steps between validations (and at the end), where the run has one; 0 = none
  int64_t validate_clips = 8;    // held-out clips a validation rolls out
  int64_t keep_checkpoints = 2;
  Precision precision = Precision::kFp32;  // of the forward and backward (weights, AdamW, EMA, loss: fp32)
};

// The learning rate of step `step` (0-based): linear warmup, then cosine decay to lr · min_lr_ratio.
double learning_rate(const TrainConfig& t, int64_t step);

}  // namespace dfb

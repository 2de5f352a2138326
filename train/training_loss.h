// The loss of one training batch, shared by the trainer, tests and bench: the
// method's per-frame levels, the forward process, one backbone call and the
// masked, weighted loss (docs/design.md §2, §4).
#pragma once
#include <torch/types.h>

#include "backbones/backbone.h"
#include "diffusion/diffusion.h"
#include "rollout/method.h"
#include "tensor/precision.h"

namespace dfb {

// Rows [begin, begin + x0's B) of a global batch of `total` rows (data-parallel training): the
// random draws are made for the whole batch and these rows taken, and the loss is this share's
// part of the whole batch's loss, so the shares' losses and gradients sum to the single-process
// ones. total = 0: x0 is the whole batch.
struct BatchShare {
  int64_t total = 0, begin = 0;
};

// x0: clean frames [B, T, C, H, W] in [-1, 1] on the model's device. Every random draw comes from `gen`.
// `precision`: of the backbone's forward (and so its backward); the loss is always fp32.
// `progress`: training step / steps (Method::training_history; 1 = trained).
// With a share, the methods whose training history draws from `gen` after the noise
// (resampling_forcing) draw it for the share only: their shares do not sum to one process's.
torch::Tensor training_loss(BackboneImpl& model, const Method& method, const Diffusion& diffusion,
                            const torch::Tensor& x0, at::Generator& gen, Precision precision = Precision::kFp32,
                            double progress = 1.0, const BatchShare& share = {});

}  // namespace dfb

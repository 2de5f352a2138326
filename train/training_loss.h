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

// x0: clean frames [B, T, C, H, W] in [-1, 1] on the model's device. Every random draw comes from `gen`.
// `precision`: of the backbone's forward (and so its backward); the loss is always fp32.
// `progress`: training step / steps (Method::training_history; 1 = trained).
torch::Tensor training_loss(BackboneImpl& model, const Method& method, const Diffusion& diffusion,
                            const torch::Tensor& x0, at::Generator& gen, Precision precision = Precision::kFp32,
                            double progress = 1.0);

}  // namespace dfb

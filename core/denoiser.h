// The rollout engine's one primitive (DESIGN §4): "denoise this window from these
// per-frame levels to those". Every method's rollout is a loop over step().
#pragma once
#include <torch/types.h>

#include "core/backbone.h"
#include "core/diffusion.h"

namespace dfb {

struct StepOptions {
  double eta = 0.0;
  // Frames that stay clean (from = to = 0) are shown to the network noised to this
  // level and labelled with it (stabilization, DESIGN §4); 0 shows them clean.
  int64_t clean_input_level = 0;
};

class Denoiser {
 public:
  Denoiser(Backbone model, const Diffusion& diffusion);

  // x: [B, T, C, H, W]; from, to: int64 [B, T] (or [T], broadcast over B) with to <= from.
  // Frames with from == to come back bit-for-bit unchanged.
  torch::Tensor step(const torch::Tensor& x, const torch::Tensor& from, const torch::Tensor& to,
                     const StepOptions& options, at::Generator& gen);

  // Pure noise shaped [B, T, C, H, W] like `like`'s frames (level N).
  torch::Tensor noise(int64_t batch, int64_t frames, const torch::Tensor& like, at::Generator& gen) const;

  const Diffusion& diffusion() const { return diffusion_; }
  BackboneImpl& model() { return *model_; }
  int64_t window() const { return model_->max_frames(); }
  int64_t calls() const { return calls_; }  // backbone calls made so far

 private:
  Backbone model_;
  const Diffusion& diffusion_;
  int64_t calls_ = 0;
};

}  // namespace dfb

// The rollout of the full-sequence methods (docs/design.md §4): chunks of (window − keep) new
// frames are denoised jointly, all at one level, from the last `keep` frames. The model
// never saw mixed levels, so the kept frames are injected by replacement: before every
// step they are noised afresh to the chunk's current level.
#pragma once
#include <torch/types.h>

#include "diffusion/diffusion.h"
#include "rollout/method.h"

namespace dfb {

class Denoiser;
class JsonReader;

// Reconstruction guidance (Video Diffusion Models, Ho et al. 2022; docs/design.md §4) for a window of the
// kept frames noised to `level` followed by the new frames `chunk` (at `level` too): x̂₀ and ε̂ of
// the new frames, with x̂₀ moved by −(w·√ᾱ_ℓ/2)·∇_chunk ‖kept − x̂₀,kept‖² (ε̂ recomputed from it).
// Differentiates through the network (autograd on, also inside an inference-mode rollout).
Diffusion::Estimate reconstruction_guided(Denoiser& d, const torch::Tensor& kept, const torch::Tensor& noised_kept,
                                          const torch::Tensor& chunk, int64_t level, double weight);

// [B, n_ctx + horizon, C, H, W], the context copied in front unchanged. `keep` >= 1 and
// < the window; while fewer frames exist, all of them are kept. `guidance` = w_r of
// reconstruction guidance (0 = replacement only).
torch::Tensor replacement_rollout(Denoiser& d, const torch::Tensor& context, int64_t horizon, const RolloutOptions& ro,
                                  int64_t keep, at::Generator& gen, double guidance = 0.0);

// The full-sequence methods (`full_sequence`, `full_sequence_causal`): full_sequence_levels()
// in training, replacement_rollout() with keep = option "keep" (default: half the window) and,
// where `guided`, reconstruction guidance of weight option "guidance" (default 6; 0 = replacement only).
// Option "conditioning": "clean" (docs/design.md §4.5) trains on context_conditioned_levels() and rolls
// out chunks of (window − keep) frames jointly behind a clean history instead (no guidance).
// Reads the options from `r`; nullptr when they have errors.
std::unique_ptr<Method> make_full_sequence_method(JsonReader& r, const std::string& name, bool causal, bool guided);

}  // namespace dfb

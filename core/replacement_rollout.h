// The rollout of the full-sequence methods (DESIGN §4): chunks of (window − keep) new
// frames are denoised jointly, all at one level, from the last `keep` frames. The model
// never saw mixed levels, so the kept frames are injected by replacement: before every
// step they are noised afresh to the chunk's current level.
#pragma once
#include <torch/types.h>

#include "core/method.h"

namespace dfb {

class Denoiser;
class JsonReader;

// [B, n_ctx + horizon, C, H, W], the context copied in front unchanged. `keep` >= 1 and
// < the window; while fewer frames exist, all of them are kept.
torch::Tensor replacement_rollout(Denoiser& d, const torch::Tensor& context, int64_t horizon, const RolloutOptions& ro,
                                  int64_t keep, at::Generator& gen);

// The full-sequence methods (`full_sequence`, `full_sequence_causal`): full_sequence_levels()
// in training, replacement_rollout() with keep = option "keep" (default: half the window).
// Reads the options from `r`; nullptr when they have errors.
std::unique_ptr<Method> make_full_sequence_method(JsonReader& r, const std::string& name, bool causal);

}  // namespace dfb

// The rollout loop of the causal methods (docs/design.md §4): new frames are made `chunk` at a
// time behind a sliding window of clean history; within a chunk a level plan (rows =
// sampling steps, columns = the chunk's frames, entries = step indices, S = noise,
// 0 = clean) says where each new frame is after each denoising call. Diffusion Forcing
// passes its scheduling matrices; next-frame methods pass the one-frame plan S, S−1, ..., 0.
#pragma once
#include <torch/types.h>

#include <functional>
#include <vector>

#include "rollout/method.h"
#include "rollout/step_plan.h"

namespace dfb {

class Denoiser;

struct ChunkedRolloutOptions {
  int64_t chunk = 1;          // new frames per plan
  int64_t history_level = 0;  // level the history is shown at (stabilization, noise augmentation); 0 = clean
  bool history_scaled = false;  // shown as √ᾱ·x without noise (StepOptions::scaled_history), not noised
  double guidance = 1.0;      // history guidance weight w (StepOptions::guidance); 1 = off
  int64_t guidance_level = -1;  // the guidance branch's history level; -1 = N (vanilla)
  // The plan for a chunk of h frames with S steps (h < chunk for the last one).
  std::function<StepPlan(int64_t h, int64_t steps)> plan;
};

// [B, n_ctx + horizon, C, H, W], the context copied in front unchanged. The history is the
// last (window − chunk) frames; with a recurrent backbone (convgru) it is every frame so far,
// which the backbone's state carries, so memory stays flat however long the rollout. Throws dfb::Error when the chunk leaves no room for history.
torch::Tensor chunked_rollout(Denoiser& d, const torch::Tensor& context, int64_t horizon, const RolloutOptions& ro,
                              const ChunkedRolloutOptions& co, at::Generator& gen);

// The plan of one frame at a time: S, S − 1, ..., 0.
StepPlan one_frame_plan(int64_t steps);

}  // namespace dfb

// A plan of sampling steps for a chunk of frames, the one type of Diffusion Forcing's
// scheduling matrices and of every rollout loop's per-chunk plans: rows are the boundaries
// between denoising calls, columns the chunk's frames, entries step indices (S = pure noise,
// 0 = clean); row m → row m + 1 is one call (Diffusion::level_of_step maps a step to a level).
#pragma once
#include <cstdint>
#include <vector>

namespace dfb {

using StepPlan = std::vector<std::vector<int64_t>>;

}  // namespace dfb

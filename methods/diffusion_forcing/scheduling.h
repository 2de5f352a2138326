// Diffusion Forcing's scheduling matrices (docs/design.md §4). Rows are sampling steps,
// columns the frames of the chunk being generated; entries are step indices
// (S = pure noise, 0 = clean). Row m → row m+1 is one denoising call.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "rollout/step_plan.h"

namespace dfb {

const std::vector<std::string>& scheduling_modes();  // full_sequence, autoregressive, pyramid, trapezoid

// full_sequence: M[m, t] = S − m, m = 0..S.
// pyramid(u): lag(t) = ⌊t·u⌋; autoregressive: pyramid with u = S;
// trapezoid(u): lag(t) = ⌊min(t, h−1−t)·u⌋;
// for these three, M[m, t] = clip(S + lag(t) − m, 0, S), m = 0 .. S + max lag.
// Throws dfb::Error for an unknown mode, steps < 1, frames < 1 or u < 0.
StepPlan scheduling_matrix(const std::string& mode, int64_t steps, int64_t frames, double uncertainty = 1.0);

}  // namespace dfb

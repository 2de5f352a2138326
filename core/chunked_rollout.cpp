#include "core/chunked_rollout.h"

#include <torch/torch.h>

#include "core/denoiser.h"
#include "core/error.h"

namespace dfb {

LevelPlan one_frame_plan(int64_t steps) {
  LevelPlan plan;
  for (int64_t s = steps; s >= 0; --s) plan.push_back({s});
  return plan;
}

torch::Tensor chunked_rollout(Denoiser& d, const torch::Tensor& context, int64_t horizon, const RolloutOptions& ro,
                              const ChunkedRolloutOptions& co, at::Generator& gen) {
  const int64_t window = d.window(), b = context.size(0), steps = ro.steps;
  if (co.chunk >= window)
    throw Error("a chunk of " + std::to_string(co.chunk) + " frames leaves no room for history in a window of " +
                std::to_string(window) + " frames; use chunk <= " + std::to_string(window - 1));
  const Diffusion& diffusion = d.diffusion();
  StepOptions so;
  so.eta = ro.eta;
  so.clean_input_level = co.history_level;
  so.guidance = co.guidance;
  so.guidance_level = co.guidance_level;
  std::vector<torch::Tensor> frames = {context};
  int64_t have = context.size(1);
  for (int64_t made = 0; made < horizon;) {
    const int64_t h = std::min(co.chunk, horizon - made);
    torch::Tensor all = frames.size() == 1 ? frames[0] : torch::cat(frames, 1);
    const int64_t past = std::min(have, window - h);
    torch::Tensor history = all.slice(1, have - past, have);
    frames = {all};
    torch::Tensor chunk = d.noise(b, h, context, gen);
    const LevelPlan plan = co.plan(h, steps);
    for (size_t row = 0; row + 1 < plan.size(); ++row) {
      if (plan[row] == plan[row + 1]) continue;
      std::vector<int64_t> from(past + h, 0), to(past + h, 0);  // history stays clean (0 → 0)
      for (int64_t t = 0; t < h; ++t) {
        from[past + t] = diffusion.level_of_step(plan[row][t], steps);
        to[past + t] = diffusion.level_of_step(plan[row + 1][t], steps);
      }
      torch::Tensor x = d.step(torch::cat({history, chunk}, 1), torch::tensor(from), torch::tensor(to), so, gen);
      chunk = x.slice(1, past, past + h);
    }
    frames.push_back(chunk);
    have += h;
    made += h;
    if (ro.on_frames) ro.on_frames(made);
  }
  return frames.size() == 1 ? frames[0] : torch::cat(frames, 1);
}

}  // namespace dfb

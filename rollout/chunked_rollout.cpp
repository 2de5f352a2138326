#include "rollout/chunked_rollout.h"

#include <torch/torch.h>

#include "rollout/method.h"

#include "rollout/denoiser.h"
#include "base/error.h"

namespace dfb {

StepPlan one_frame_plan(int64_t steps) {
  StepPlan plan;
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
  so.scaled_history = co.history_scaled;
  so.guidance = co.guidance;
  so.guidance_level = co.guidance_level;
  // The output, filled chunk by chunk; the history is a view of it (no copies of the past).
  const int64_t n_ctx = context.size(1);
  torch::Tensor video = rollout_video(context, horizon);
  int64_t have = n_ctx;
  for (int64_t made = 0; made < horizon;) {
    const int64_t h = std::min(co.chunk, horizon - made);
    // A recurrent backbone sees the whole past (its state is extended, not rebuilt); others a window.
    const int64_t past = d.recurrent() ? have : std::min(have, window - h);
    torch::Tensor history = d.recurrent() ? video.slice(1, have - past, have) : window_history(video, have, past, ro.sink);
    torch::Tensor chunk = d.noise(b, h, context, gen);
    const StepPlan plan = co.plan(h, steps);
    for (size_t row = 0; row + 1 < plan.size(); ++row) {
      if (plan[row] == plan[row + 1]) continue;
      std::vector<int64_t> from(h), to(h);
      for (int64_t t = 0; t < h; ++t) {
        from[t] = diffusion.level_of_step(plan[row][t], steps);
        to[t] = diffusion.level_of_step(plan[row + 1][t], steps);
      }
      chunk = d.step_after(history, chunk, torch::tensor(from), torch::tensor(to), so, gen);
    }
    video.slice(1, have, have + h).copy_(chunk);
    have += h;
    made += h;
    if (ro.on_frames) ro.on_frames(made);
  }
  return video;
}

}  // namespace dfb

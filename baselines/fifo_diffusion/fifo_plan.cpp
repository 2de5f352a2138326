#include "baselines/fifo_diffusion/fifo_plan.h"

#include <string>

#include "base/error.h"
#include "diffusion/diffusion.h"

namespace dfb {

FifoPlan fifo_plan(int64_t window, int64_t partitions, bool lookahead, const Diffusion& diffusion) {
  if (window < 2) throw Error("fifo_diffusion needs a window of at least 2 frames, got " + std::to_string(window));
  if (partitions < 1) throw Error("fifo_diffusion: partitions must be >= 1, got " + std::to_string(partitions));
  if (lookahead && window % 2 != 0)
    throw Error("fifo_diffusion: lookahead denoising needs an even window (its calls advance by half a window), got " +
                std::to_string(window) + " frames; set \"lookahead\": false");
  FifoPlan plan;
  plan.window = window;
  plan.partitions = partitions;
  plan.pad = lookahead ? window / 2 : 0;
  const int64_t slots = partitions * window;
  auto tau = [&](int64_t i) { return diffusion.level_of_step(i, slots); };
  plan.levels.assign(static_cast<size_t>(plan.pad), tau(1));
  for (int64_t j = 0; j < slots; ++j) plan.levels.push_back(tau(j + 1));
  // Windows of f frames, `stride` apart, each writing its last `stride` frames, from the tail.
  const int64_t stride = lookahead ? window / 2 : window, count = slots / stride;
  for (int64_t r = count - 1; r >= 0; --r) {
    FifoCall call;
    call.begin = r * stride;
    call.write_begin = call.begin + window - stride;
    for (int64_t p = call.begin; p < call.begin + window; ++p) {
      const int64_t j = p - plan.pad;  // queue slot (< 0: the clean pad, left as it is)
      call.from.push_back(plan.levels[static_cast<size_t>(p)]);
      call.to.push_back(j < 0 ? plan.levels[static_cast<size_t>(p)] : tau(j));
    }
    plan.calls.push_back(std::move(call));
  }
  return plan;
}

nlohmann::json to_json(const FifoPlan& plan) {
  nlohmann::json calls = nlohmann::json::array();
  for (const FifoCall& c : plan.calls)
    calls.push_back({{"begin", c.begin}, {"from", c.from}, {"to", c.to}, {"write_begin", c.write_begin}});
  return {{"window", plan.window}, {"partitions", plan.partitions}, {"pad", plan.pad}, {"levels", plan.levels},
          {"calls", calls}};
}

}  // namespace dfb

#include "core/replacement_rollout.h"

#include <torch/torch.h>

#include "core/denoiser.h"
#include "core/error.h"
#include "core/json_reader.h"

namespace dfb {

torch::Tensor replacement_rollout(Denoiser& d, const torch::Tensor& context, int64_t horizon, const RolloutOptions& ro,
                                  int64_t keep, at::Generator& gen) {
  const int64_t window = d.window(), b = context.size(0), steps = ro.steps;
  if (keep < 1 || keep >= window)
    throw Error("keep must be in [1, " + std::to_string(window - 1) + "] for a window of " + std::to_string(window) +
                " frames, got " + std::to_string(keep));
  const Diffusion& diffusion = d.diffusion();
  StepOptions so;
  so.eta = ro.eta;
  std::vector<torch::Tensor> frames = {context};
  int64_t have = context.size(1);
  for (int64_t made = 0; made < horizon;) {
    torch::Tensor all = frames.size() == 1 ? frames[0] : torch::cat(frames, 1);
    frames = {all};
    const int64_t k = std::min(keep, have), h = std::min(window - k, horizon - made);
    torch::Tensor kept = all.slice(1, have - k, have);
    torch::Tensor chunk = d.noise(b, h, context, gen);
    for (int64_t s = steps; s > 0; --s) {
      const int64_t level = diffusion.level_of_step(s, steps), next = diffusion.level_of_step(s - 1, steps);
      torch::Tensor kept_levels = torch::full({b, k}, level, torch::kLong);
      torch::Tensor noised = diffusion.q_sample(kept, kept_levels, diffusion.noise_like(kept, gen));
      std::vector<int64_t> from(k + h, level), to(k + h, next);
      for (int64_t t = 0; t < k; ++t) to[t] = level;  // kept frames: replaced, not denoised
      chunk = d.step(torch::cat({noised, chunk}, 1), torch::tensor(from), torch::tensor(to), so, gen).slice(1, k);
    }
    frames.push_back(chunk);
    have += h;
    made += h;
    if (ro.on_frames) ro.on_frames(made);
  }
  return frames.size() == 1 ? frames[0] : torch::cat(frames, 1);
}

namespace {

class FullSequenceMethod : public Method {
 public:
  FullSequenceMethod(std::string name, bool causal, int64_t keep) : name_(std::move(name)), causal_(causal), keep_(keep) {}
  std::string name() const override { return name_; }
  bool causal() const override { return causal_; }
  TrainLevels training_levels(int64_t batch, int64_t frames, int64_t levels, at::Generator& gen) const override {
    return full_sequence_levels(batch, frames, levels, gen);
  }
  torch::Tensor rollout(Denoiser& d, const torch::Tensor& context, int64_t horizon, const RolloutOptions& ro,
                        at::Generator& gen) const override {
    return replacement_rollout(d, context, horizon, ro, keep_ > 0 ? keep_ : d.window() / 2, gen);
  }

 private:
  std::string name_;
  bool causal_;
  int64_t keep_;  // 0 = half the window
};

}  // namespace

std::unique_ptr<Method> make_full_sequence_method(JsonReader& r, const std::string& name, bool causal) {
  int64_t keep = 0;
  r.get("keep", keep);
  const bool ok = r.check(keep >= 0, "keep", "must be >= 0 (0 = half the window)");
  r.finish();
  if (!ok) return nullptr;
  return std::make_unique<FullSequenceMethod>(name, causal, keep);
}

}  // namespace dfb

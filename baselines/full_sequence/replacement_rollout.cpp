#include "baselines/full_sequence/replacement_rollout.h"

#include <torch/torch.h>

#include "rollout/method.h"

#include <cmath>

#include "rollout/chunked_rollout.h"
#include "rollout/denoiser.h"
#include "base/error.h"
#include "base/json_reader.h"

namespace dfb {

Diffusion::Estimate reconstruction_guided(Denoiser& d, const torch::Tensor& kept, const torch::Tensor& noised_kept,
                                          const torch::Tensor& chunk, int64_t level, double weight) {
  const int64_t k = kept.size(1), h = chunk.size(1);
  c10::InferenceMode off(false);  // the rollout may run in inference mode; this needs autograd
  torch::AutoGradMode grad(true);
  // Copies: tensors made in inference mode cannot be saved for backward.
  torch::Tensor z = chunk.detach().clone().requires_grad_(true);
  torch::Tensor target = kept.detach().clone(), shown = noised_kept.detach().clone();
  Diffusion::Estimate est = d.estimate(torch::cat({shown, z}, 1), torch::full({k + h}, level, torch::kLong));
  torch::Tensor error = (target - est.x0.slice(1, 0, k)).pow(2).sum();
  torch::Tensor gradient = torch::autograd::grad({error}, {z})[0];
  const double abar = d.diffusion().alpha_bar()[level].item<double>();
  const double a = std::sqrt(abar), s = std::sqrt(1.0 - abar);
  Diffusion::Estimate out;
  out.x0 = (est.x0.slice(1, k).detach() - (weight * a / 2.0) * gradient).clamp(-1, 1);
  out.eps = s > 1e-8 ? (z.detach() - a * out.x0) / s : est.eps.slice(1, k).detach();
  return out;
}

torch::Tensor replacement_rollout(Denoiser& d, const torch::Tensor& context, int64_t horizon, const RolloutOptions& ro,
                                  int64_t keep, at::Generator& gen, double guidance) {
  const int64_t window = d.window(), b = context.size(0), steps = ro.steps;
  if (keep < 1 || keep >= window)
    throw Error("keep must be in [1, " + std::to_string(window - 1) + "] for a window of " + std::to_string(window) +
                " frames, got " + std::to_string(keep));
  const Diffusion& diffusion = d.diffusion();
  StepOptions so;
  so.eta = ro.eta;
  const int64_t n_ctx = context.size(1);
  torch::Tensor video = rollout_video(context, horizon);
  int64_t have = n_ctx;
  for (int64_t made = 0; made < horizon;) {
    const int64_t k = std::min(keep, have), h = std::min(window - k, horizon - made);
    torch::Tensor kept = window_history(video, have, k, ro.sink);
    torch::Tensor chunk = d.noise(b, h, context, gen);
    for (int64_t s = steps; s > 0; --s) {
      const int64_t level = diffusion.level_of_step(s, steps), next = diffusion.level_of_step(s - 1, steps);
      torch::Tensor kept_levels = torch::full({b, k}, level, torch::kLong);
      torch::Tensor noised = diffusion.q_sample(kept, kept_levels, diffusion.noise_like(kept, gen));
      if (guidance > 0) {
        Diffusion::Estimate est = reconstruction_guided(d, kept, noised, chunk, level, guidance);
        chunk = diffusion.ddim_step(chunk, est, torch::full({b, h}, level, torch::kLong),
                                    torch::full({b, h}, next, torch::kLong), ro.eta, gen);
        continue;
      }
      std::vector<int64_t> from(k + h, level), to(k + h, next);
      for (int64_t t = 0; t < k; ++t) to[t] = level;  // kept frames: replaced, not denoised
      chunk = d.step(torch::cat({noised, chunk}, 1), torch::tensor(from), torch::tensor(to), so, gen).slice(1, k);
    }
    video.slice(1, have, have + h).copy_(chunk);
    have += h;
    made += h;
    if (ro.on_frames) ro.on_frames(made);
  }
  return video;
}

namespace {

class FullSequenceMethod : public Method {
 public:
  FullSequenceMethod(std::string name, bool causal, int64_t keep, double guidance, bool clean_context)
      : name_(std::move(name)), causal_(causal), keep_(keep), guidance_(guidance), clean_context_(clean_context) {}
  std::string name() const override { return name_; }
  bool causal() const override { return causal_; }
  TrainLevels training_levels(int64_t batch, int64_t frames, int64_t n_levels, at::Generator& gen) const override {
    return clean_context_ ? context_conditioned_levels(batch, frames, n_levels, gen)
                          : full_sequence_levels(batch, frames, n_levels, gen);
  }
  torch::Tensor rollout(Denoiser& d, const torch::Tensor& context, int64_t horizon, const RolloutOptions& ro,
                        at::Generator& gen) const override {
    const int64_t keep = keep_ > 0 ? keep_ : d.window() / 2;
    if (!clean_context_) return replacement_rollout(d, context, horizon, ro, keep, gen, guidance_);
    if (keep >= d.window())
      throw Error("keep must be in [1, " + std::to_string(d.window() - 1) + "] for a window of " +
                  std::to_string(d.window()) + " frames, got " + std::to_string(keep));
    // The kept frames as they are (the model was trained on a clean prefix); the new ones jointly.
    ChunkedRolloutOptions co;
    co.chunk = d.window() - keep;
    co.plan = [](int64_t h, int64_t steps) {
      StepPlan plan;
      for (int64_t m = 0; m <= steps; ++m) plan.push_back(std::vector<int64_t>(static_cast<size_t>(h), steps - m));
      return plan;
    };
    return chunked_rollout(d, context, horizon, ro, co, gen);
  }

 private:
  std::string name_;
  bool causal_;
  int64_t keep_;  // 0 = half the window
  double guidance_;  // reconstruction guidance weight w_r; 0 = replacement only
  bool clean_context_;  // conditioning "clean": trained on a clean prefix, rolled out behind a clean history
};

}  // namespace

std::unique_ptr<Method> make_full_sequence_method(JsonReader& r, const std::string& name, bool causal, bool guided) {
  int64_t keep = 0;
  // Reconstruction guidance weight w_r; the default was chosen by measurement
  // (docs/results/defaults.md).
  double guidance = guided ? 6.0 : 0.0;
  std::string conditioning = "replacement";
  r.get_choice("conditioning", conditioning, {"replacement", "clean"});
  r.get("keep", keep).sampling_time();
  if (conditioning == "clean") {  // nothing to guide: the kept frames are given clean
    guided = false;
    guidance = 0.0;
  }
  if (guided) r.get("guidance", guidance).sampling_time();
  bool ok = r.check(keep >= 0, "keep", "must be >= 0 (0 = half the window)");
  ok = r.check(guidance >= 0, "guidance", "must be >= 0 (0 = replacement only)") && ok;
  r.finish();
  if (!ok) return nullptr;
  return std::make_unique<FullSequenceMethod>(name, causal, keep, guidance, conditioning == "clean");
}

}  // namespace dfb

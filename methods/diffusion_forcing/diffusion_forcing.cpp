// Diffusion Forcing (Chen et al. 2024; docs/design.md §4): every training frame gets its
// own noise level; rollouts follow a scheduling matrix over a chunk of new frames,
// with the past in a sliding window of the model's length.
#include <torch/torch.h>

#include <cmath>

#include "rollout/chunked_rollout.h"
#include "rollout/denoiser.h"
#include "base/error.h"
#include "base/json_reader.h"
#include "rollout/method.h"
#include "base/registry.h"
#include "methods/diffusion_forcing/scheduling.h"

namespace dfb {
namespace {

struct DiffusionForcingOptions {
  std::string scheduling = "autoregressive";  // full_sequence | autoregressive | pyramid | trapezoid
  int64_t chunk = 1;                          // frames generated per scheduling matrix (h)
  double uncertainty = 1.0;                   // u of pyramid and trapezoid
  int64_t stabilization = 15;                 // ℓ_stab: level at which past frames are shown (0 = clean)
  std::string history_mode = "noise";         // noise: noised to ℓ_stab | scale: √ᾱ·x, no noise (the paper's code)
  double guidance = 1.0;                      // history guidance weight w (1 = off)
  double guidance_history = 1.0;              // level of the guidance branch's history, a fraction of N (1 = vanilla)
};

class DiffusionForcing : public Method {
 public:
  explicit DiffusionForcing(DiffusionForcingOptions o) : o_(std::move(o)) {}
  std::string name() const override { return "diffusion_forcing"; }
  bool causal() const override { return true; }

  // Independent U{0..N} per frame and sample; loss on every frame with ℓ > 0.
  TrainLevels training_levels(int64_t batch, int64_t frames, int64_t n_levels, at::Generator& gen) const override {
    TrainLevels t;
    t.levels = uniform_levels({batch, frames}, 0, n_levels, gen);
    t.loss_mask = (t.levels > 0).to(torch::kFloat32);
    return t;
  }

  torch::Tensor rollout(Denoiser& d, const torch::Tensor& context, int64_t horizon, const RolloutOptions& ro,
                        at::Generator& gen) const override {
    ChunkedRolloutOptions co;
    co.chunk = o_.chunk;
    co.history_level = o_.stabilization;
    co.history_scaled = o_.history_mode == "scale";
    co.guidance = o_.guidance;
    co.guidance_level = std::llround(o_.guidance_history * static_cast<double>(d.diffusion().num_levels()));
    co.plan = [this](int64_t h, int64_t steps) { return scheduling_matrix(o_.scheduling, steps, h, o_.uncertainty); };
    return chunked_rollout(d, context, horizon, ro, co, gen);
  }

 private:
  DiffusionForcingOptions o_;
};

std::unique_ptr<Method> make(JsonReader& r) {
  DiffusionForcingOptions o;
  // Every option of Diffusion Forcing acts at sampling time: training is per-frame levels only.
  r.get_choice("scheduling", o.scheduling, scheduling_modes()).sampling_time()
      .get("chunk", o.chunk).sampling_time()
      .get("uncertainty", o.uncertainty).sampling_time()
      .get("stabilization", o.stabilization).sampling_time()
      .get("guidance", o.guidance).sampling_time()
      .get("guidance_history", o.guidance_history).sampling_time();
  if (r.has("history_mode"))  // recorded only when given: configs without it keep their keys
    r.get_choice("history_mode", o.history_mode, {"noise", "scale"}).sampling_time();
  bool ok = r.check(o.chunk >= 1, "chunk", "must be >= 1");
  ok = r.check(o.uncertainty >= 0, "uncertainty", "must be >= 0") && ok;
  ok = r.check(o.stabilization >= 0, "stabilization", "must be >= 0 (0 = clean history)") && ok;
  ok = r.check(o.guidance_history > 0 && o.guidance_history <= 1, "guidance_history",
               "must be in (0, 1]: the guidance branch's history level as a fraction of N (1 = vanilla)") &&
       ok;
  r.finish();
  if (!ok) return nullptr;
  return std::make_unique<DiffusionForcing>(o);
}

Registrar<MethodFactory> reg("diffusion_forcing",
                             "independent per-frame noise levels; scheduling-matrix rollout with stabilization",
                             MethodFactory{&make});

}  // namespace
}  // namespace dfb

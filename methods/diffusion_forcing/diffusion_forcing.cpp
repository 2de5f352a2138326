// Diffusion Forcing (Chen et al. 2024; DESIGN §4): every training frame gets its
// own noise level; rollouts follow a scheduling matrix over a chunk of new frames,
// with the past in a sliding window of the model's length.
#include <torch/torch.h>

#include "core/denoiser.h"
#include "core/error.h"
#include "core/json_reader.h"
#include "core/method.h"
#include "core/registry.h"
#include "methods/diffusion_forcing/scheduling.h"

namespace dfb {
namespace {

struct DiffusionForcingOptions {
  std::string scheduling = "autoregressive";  // full_sequence | autoregressive | pyramid | trapezoid
  int64_t chunk = 1;                          // frames generated per scheduling matrix (h)
  double uncertainty = 1.0;                   // u of pyramid and trapezoid
  int64_t stabilization = 15;                 // ℓ_stab: level at which past frames are shown (0 = clean)
};

class DiffusionForcing : public Method {
 public:
  explicit DiffusionForcing(DiffusionForcingOptions o) : o_(std::move(o)) {}
  std::string name() const override { return "diffusion_forcing"; }
  bool causal() const override { return true; }

  // Independent U{0..N} per frame and sample; loss on every frame with ℓ > 0.
  TrainLevels training_levels(int64_t batch, int64_t frames, int64_t levels, at::Generator& gen) const override {
    TrainLevels t;
    t.levels = uniform_levels({batch, frames}, 0, levels, gen);
    t.loss_mask = (t.levels > 0).to(torch::kFloat32);
    return t;
  }

  torch::Tensor rollout(Denoiser& d, const torch::Tensor& context, int64_t horizon, const RolloutOptions& ro,
                        at::Generator& gen) const override {
    const int64_t window = d.window(), b = context.size(0), steps = ro.steps;
    if (o_.chunk >= window)
      throw Error("diffusion_forcing: chunk " + std::to_string(o_.chunk) + " leaves no room for history in a window of " +
                  std::to_string(window) + " frames; use chunk <= " + std::to_string(window - 1));
    const Diffusion& diffusion = d.diffusion();
    StepOptions so;
    so.eta = ro.eta;
    so.clean_input_level = o_.stabilization;
    std::vector<torch::Tensor> frames = {context};
    int64_t have = context.size(1);
    for (int64_t made = 0; made < horizon;) {
      const int64_t h = std::min(o_.chunk, horizon - made);
      torch::Tensor all = frames.size() == 1 ? frames[0] : torch::cat(frames, 1);
      const int64_t past = std::min(have, window - h);
      torch::Tensor history = all.slice(1, have - past, have);
      frames = {all};
      torch::Tensor chunk = d.noise(b, h, context, gen);
      const SchedulingMatrix m = scheduling_matrix(o_.scheduling, steps, h, o_.uncertainty);
      for (size_t row = 0; row + 1 < m.size(); ++row) {
        if (m[row] == m[row + 1]) continue;
        std::vector<int64_t> from(past + h, 0), to(past + h, 0);  // history stays clean (0 → 0)
        for (int64_t t = 0; t < h; ++t) {
          from[past + t] = diffusion.level_of_step(m[row][t], steps);
          to[past + t] = diffusion.level_of_step(m[row + 1][t], steps);
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

 private:
  DiffusionForcingOptions o_;
};

std::unique_ptr<Method> make(JsonReader& r) {
  DiffusionForcingOptions o;
  r.get_choice("scheduling", o.scheduling, scheduling_modes())
      .get("chunk", o.chunk)
      .get("uncertainty", o.uncertainty)
      .get("stabilization", o.stabilization);
  bool ok = r.check(o.chunk >= 1, "chunk", "must be >= 1");
  ok = r.check(o.uncertainty >= 0, "uncertainty", "must be >= 0") && ok;
  ok = r.check(o.stabilization >= 0, "stabilization", "must be >= 0 (0 = clean history)") && ok;
  r.finish();
  if (!ok) return nullptr;
  return std::make_unique<DiffusionForcing>(o);
}

Registrar<MethodFactory> reg("diffusion_forcing",
                             "independent per-frame noise levels; scheduling-matrix rollout with stabilization",
                             MethodFactory{&make});

}  // namespace
}  // namespace dfb

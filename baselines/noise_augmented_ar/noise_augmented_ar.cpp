// noise_augmented_ar (docs/design.md §4; cascaded-diffusion style augmentation): teacher forcing
// whose context is noised during training to a shared level a ~ U{0..a_max}, and at
// sampling to a fixed level a_s, once per new frame; the network is told the level.
#include <torch/torch.h>

#include "rollout/chunked_rollout.h"
#include "rollout/denoiser.h"
#include "base/json_reader.h"
#include "rollout/method.h"
#include "base/registry.h"

namespace dfb {
namespace {

struct NoiseAugmentedOptions {
  double train_max = 0.3;  // a_max as a fraction of N
  double sample = 0.1;     // a_s as a fraction of N
  std::string history_mode = "noise";  // noise: the context noised to a_s | scale: √ᾱ·x without noise
};

class NoiseAugmentedAr : public Method {
 public:
  explicit NoiseAugmentedAr(NoiseAugmentedOptions o) : o_(o) {}
  std::string name() const override { return "noise_augmented_ar"; }
  bool causal() const override { return true; }
  TrainLevels training_levels(int64_t batch, int64_t frames, int64_t n_levels, at::Generator& gen) const override {
    return next_frame_levels(batch, frames, n_levels, std::llround(o_.train_max * static_cast<double>(n_levels)), gen);
  }
  torch::Tensor rollout(Denoiser& d, const torch::Tensor& context, int64_t horizon, const RolloutOptions& ro,
                        at::Generator& gen) const override {
    ChunkedRolloutOptions co;
    co.history_level = std::llround(o_.sample * static_cast<double>(d.diffusion().num_levels()));
    co.history_scaled = o_.history_mode == "scale";
    co.plan = [](int64_t, int64_t steps) { return one_frame_plan(steps); };
    return chunked_rollout(d, context, horizon, ro, co, gen);
  }

 private:
  NoiseAugmentedOptions o_;
};

std::unique_ptr<Method> make(JsonReader& r) {
  NoiseAugmentedOptions o;
  r.get("train_max", o.train_max).get("sample", o.sample).sampling_time();
  if (r.has("history_mode"))  // recorded only when given: configs without it keep their keys
    r.get_choice("history_mode", o.history_mode, {"noise", "scale"}).sampling_time();
  bool ok = r.check(o.train_max >= 0 && o.train_max <= 1, "train_max", "must be in [0, 1] (a fraction of N)");
  ok = r.check(o.sample >= 0 && o.sample <= 1, "sample", "must be in [0, 1] (a fraction of N)") && ok;
  r.finish();
  if (!ok) return nullptr;
  return std::make_unique<NoiseAugmentedAr>(o);
}

Registrar<MethodFactory> reg("noise_augmented_ar",
                             "teacher forcing with the context noised in training (a ~ U{0..a_max}) and sampling (a_s)",
                             MethodFactory{&make});

}  // namespace
}  // namespace dfb

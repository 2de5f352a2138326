#include "pipeline/validation.h"

#include <torch/torch.h>

#include <cmath>
#include <memory>

#include "base/rng.h"
#include "metrics/oracle.h"
#include "pipeline/run_parts.h"
#include "rollout/denoiser.h"
#include "tensor/compat.h"
#include "tensor/frames.h"
#include "train/training_loss.h"

namespace dfb {

namespace {

// Fixed draws, apart from every stream of the training (whose steps use step_seed(seed, s ≥ 0)).
constexpr int64_t kLossDraws = -3, kRolloutDraws = -4;

struct Validation {
  RunConfig config;
  const Method* method = nullptr;
  Diffusion diffusion;
  Clips truth;           // validate_clips clips of T_train frames
  torch::Tensor frames;  // the same as [N, T, C, H, W] in [-1, 1]
  bool oracle = false;

  Validation(const RunConfig& c, const Method& m) : config(c), method(&m), diffusion(c.diffusion) {
    truth = load_validation_clips(config, config.train.validate_clips, config.train.frames);
    frames = clips_to_tensor(truth);
    oracle = truth.objects > 0 && truth.channels == 3 && !truth.colors.empty();
  }

  std::map<std::string, double> operator()(Backbone& ema) const {
    std::map<std::string, double> out;
    const torch::Device device = parse_device(config.device);
    ema->eval();
    {
      torch::NoGradGuard no_grad;
      at::Generator gen = make_generator(step_seed(config.seed, kLossDraws));
      out["loss"] = training_loss(*ema, *method, diffusion, frames.to(device), gen, config.sample.precision).item<double>();
    }
    if (!oracle) return out;
    const int64_t context = std::min<int64_t>(config.sample.context, config.train.frames - 1);
    Denoiser denoiser(ema, diffusion);
    denoiser.set_precision(config.sample.precision);
    RolloutOptions ro;
    ro.steps = config.sample.steps;
    ro.eta = config.sample.eta;
    at::Generator gen = make_generator(step_seed(config.seed, kRolloutDraws));
    torch::Tensor video;
    {
      torch::InferenceMode inference;
      video = method->rollout(denoiser, frames.slice(1, 0, context).to(device), config.train.frames - context, ro, gen);
    }
    Clips made = truth;
    made.frames = tensor_to_frames(video);
    made.objects = 0;
    made.states.clear();
    made.colors.clear();
    double valid = 0;
    int64_t n = 0;
    for (const std::vector<OracleFrame>& clip : oracle_clips(made, truth))
      for (size_t t = static_cast<size_t>(context); t < clip.size(); ++t, ++n) valid += clip[t].valid;
    out["oracle_valid"] = n > 0 ? valid / static_cast<double>(n) : NAN;
    return out;
  }
};

}  // namespace

std::function<std::map<std::string, double>(Backbone& ema)> make_validation(const RunConfig& config,
                                                                          const Method& method) {
  if (config.train.validate_every <= 0) return {};
  auto v = std::make_shared<const Validation>(config, method);
  return [v](Backbone& ema) { return (*v)(ema); };
}

}  // namespace dfb

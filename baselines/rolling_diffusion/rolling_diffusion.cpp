// rolling_diffusion (Ruhe et al. 2024, "Rolling Diffusion Models"), added by following
// docs/adding-a-baseline.md: a window whose new frames sit at linearly increasing noise
// levels. Every denoising call moves all of them down a little; when the front frame is
// clean it leaves the window (becoming history) and a frame of pure noise joins at the back.
//
// Window of T frames = `clean` clean history frames + R = T − clean rolling frames.
//   rolling profile, phase τ in [0, 1]: rolling frame k (0 = front) at level (k + τ)·N/R;
//   init profile, t in [0, 1]: frame k at min(1, k/R + t)·N — from pure noise (t = 1) down
//     to the rolling profile at τ = 0 (t = 0), the way the first window leaves pure noise.
//   training: per sample, the init profile with probability `init_share` (t ~ U[0, 1]),
//     else the rolling one (τ ~ U[0, 1)); loss on the rolling frames that are not clean.
//   rollout: the init profile from t = 1 to 0 (`init_steps` calls, default S), then per output frame: the clean
//     front frame leaves, pure noise joins at the back, and S calls take τ from 1 to 0.
// Without the init profile in training the first window is out of distribution. The
// defaults (half the window as history, init_share 0.5) were chosen by measurement
// (docs/results/defaults.md).
#include <torch/torch.h>

#include <cmath>

#include "rollout/denoiser.h"
#include "base/error.h"
#include "base/json_reader.h"
#include "rollout/method.h"
#include "base/registry.h"

namespace dfb {
namespace {

class RollingDiffusion : public Method {
 public:
  RollingDiffusion(int64_t clean, double init_share, int64_t init_steps)
      : clean_option_(clean), init_share_(init_share), init_steps_(init_steps) {}
  std::string name() const override { return "rolling_diffusion"; }
  bool causal() const override { return true; }

  TrainLevels training_levels(int64_t batch, int64_t frames, int64_t n_levels, at::Generator& gen) const override {
    const int64_t clean = clean_frames(frames), rolling = frames - clean;
    const double n = static_cast<double>(n_levels);
    torch::Tensor k = torch::arange(rolling, torch::kFloat64).unsqueeze(0);
    torch::Tensor tau = uniform_levels({batch, 1}, 0, n_levels - 1, gen).to(torch::kFloat64) / n;
    torch::Tensor roll = torch::round((k + tau) * (n / rolling));
    torch::Tensor t = uniform_levels({batch, 1}, 0, n_levels, gen).to(torch::kFloat64) / n;
    torch::Tensor init = torch::round(torch::clamp(k / rolling + t, 0, 1) * n);
    torch::Tensor use_init = uniform_levels({batch, 1}, 0, n_levels - 1, gen).to(torch::kFloat64) < init_share_ * n;
    TrainLevels out;
    out.levels = torch::cat({torch::zeros({batch, clean}, torch::kLong),
                             torch::where(use_init, init, roll).clamp(0, n_levels).to(torch::kLong)}, 1);
    out.loss_mask = (out.levels > 0).to(torch::kFloat32);
    out.loss_mask.slice(1, 0, clean).zero_();
    return out;
  }

  torch::Tensor rollout(Denoiser& d, const torch::Tensor& context, int64_t horizon, const RolloutOptions& ro,
                        at::Generator& gen) const override {
    const int64_t window = d.window(), clean = clean_frames(window), rolling = window - clean;
    const int64_t n = d.diffusion().num_levels(), steps = ro.steps, b = context.size(0);
    auto profile = [&](double tau) {  // levels of the rolling frames at phase τ
      std::vector<int64_t> lv(rolling);
      for (int64_t k = 0; k < rolling; ++k)
        lv[k] = std::min<int64_t>(n, std::llround((k + tau) * static_cast<double>(n) / rolling));
      return lv;
    };
    auto init_profile = [&](double t) {  // levels of the first window at init time t
      std::vector<int64_t> lv(rolling);
      for (int64_t k = 0; k < rolling; ++k)
        lv[k] = std::llround(std::min(1.0, static_cast<double>(k) / rolling + t) * static_cast<double>(n));
      return lv;
    };
    StepOptions so;
    so.eta = ro.eta;
    const int64_t n_ctx = context.size(1);
    torch::Tensor video = rollout_video(context, horizon);
    int64_t have = n_ctx;
    torch::Tensor buffer = d.noise(b, rolling, context, gen);
    std::vector<int64_t> now(rolling, n);  // current levels of the rolling frames
    // One step of the rolling frames behind the clean history (a view of the output, or the
    // sink and the recent frames; the denoiser prepares it once while it stays the same).
    torch::Tensor history = window_history(video, have, std::min(have, clean), ro.sink);
    auto denoise_to = [&](const std::vector<int64_t>& next) {
      buffer = d.step_after(history, buffer, torch::tensor(now), torch::tensor(next), so, gen);
      now = next;
    };
    // The first window: the init profile from pure noise (t = 1) to the rolling profile at τ = 0.
    const int64_t init_steps = init_steps_ > 0 ? init_steps_ : steps;
    for (int64_t j = 1; j <= init_steps; ++j) denoise_to(init_profile(1.0 - static_cast<double>(j) / init_steps));
    for (int64_t made = 0; made < horizon;) {
      // The front frame is clean: it leaves the window, pure noise joins at the back (now: τ = 1).
      video.slice(1, have, have + 1).copy_(buffer.slice(1, 0, 1));
      ++have;
      history = window_history(video, have, std::min(have, clean), ro.sink);
      buffer = torch::cat({buffer.slice(1, 1), d.noise(b, 1, context, gen)}, 1);
      now.erase(now.begin());
      now.push_back(n);
      ++made;
      if (ro.on_frames) ro.on_frames(made);
      if (made < horizon)
        for (int64_t j = 1; j <= steps; ++j) denoise_to(profile(1.0 - static_cast<double>(j) / steps));
    }
    return video;
  }

 private:
  // Clean history frames in a window of `frames`: the option, or half the window.
  int64_t clean_frames(int64_t frames) const {
    const int64_t clean = clean_option_ > 0 ? clean_option_ : std::max<int64_t>(1, frames / 2);
    if (clean >= frames)
      throw Error("rolling_diffusion: clean = " + std::to_string(clean) + " leaves no rolling frames in a window of " +
                  std::to_string(frames));
    return clean;
  }
  int64_t clean_option_;  // 0 = half the window
  double init_share_;     // share of training samples on the init profile
  int64_t init_steps_;    // denoising calls of the first window (0 = S)
};

std::unique_ptr<Method> make(JsonReader& r) {
  int64_t clean = 0;
  double init_share = 0.5;
  int64_t init_steps = 0;
  r.get("clean", clean).get("init_share", init_share).get("init_steps", init_steps).sampling_time();
  bool ok = r.check(clean >= 0, "clean", "must be >= 0 (0 = half the window)");
  ok = r.check(init_share >= 0 && init_share <= 1, "init_share", "must be in [0, 1]") && ok;
  ok = r.check(init_steps >= 0, "init_steps", "must be >= 0 (0 = the sampling steps S)") && ok;
  r.finish();
  if (!ok) return nullptr;
  return std::make_unique<RollingDiffusion>(clean, init_share, init_steps);
}

Registrar<MethodFactory> reg("rolling_diffusion",
                             "sliding window at linearly increasing levels; the front frame leaves when clean",
                             MethodFactory{&make});

}  // namespace
}  // namespace dfb

// rolling_diffusion (Ruhe et al. 2024, "Rolling Diffusion Models"), added by following
// docs/adding-a-baseline.md: a window whose new frames sit at linearly increasing noise
// levels. Every denoising call moves all of them down a little; when the front frame is
// clean it leaves the window (becoming history) and a frame of pure noise joins at the back.
//
// Window of T frames = `clean` clean history frames + R = T − clean rolling frames. With a
// phase τ in [0, 1], rolling frame k (0 = front) is at level (k + τ)·N/R.
//   training: τ ~ U[0, 1) per sample (N steps of resolution); loss on rolling frames.
//   rollout: a ramp from pure noise to the τ = 1 profile (S calls), then S calls per
//   output frame, τ going from 1 to 0.
#include <torch/torch.h>

#include <cmath>

#include "core/denoiser.h"
#include "core/error.h"
#include "core/json_reader.h"
#include "core/method.h"
#include "core/registry.h"

namespace dfb {
namespace {

class RollingDiffusion : public Method {
 public:
  explicit RollingDiffusion(int64_t clean) : clean_option_(clean) {}
  std::string name() const override { return "rolling_diffusion"; }
  bool causal() const override { return true; }

  TrainLevels training_levels(int64_t batch, int64_t frames, int64_t levels, at::Generator& gen) const override {
    const int64_t clean = clean_frames(frames), rolling = frames - clean;
    torch::Tensor tau = uniform_levels({batch, 1}, 0, levels - 1, gen).to(torch::kFloat64) / levels;
    torch::Tensor k = torch::arange(rolling, torch::kFloat64).unsqueeze(0);
    torch::Tensor roll = torch::round((k + tau) * (static_cast<double>(levels) / rolling)).to(torch::kLong);
    TrainLevels out;
    out.levels = torch::cat({torch::zeros({batch, clean}, torch::kLong), roll.clamp(0, levels)}, 1);
    out.loss_mask = (out.levels > 0).to(torch::kFloat32);
    out.loss_mask.slice(1, 0, clean).zero_();
    return out;
  }

  torch::Tensor rollout(Denoiser& d, const torch::Tensor& context, int64_t horizon, const RolloutOptions& ro,
                        at::Generator& gen) const override {
    const int64_t window = d.window(), clean = clean_frames(window), rolling = window - clean;
    const int64_t n = d.diffusion().levels(), steps = ro.steps, b = context.size(0);
    auto profile = [&](double tau) {  // levels of the rolling frames at phase τ
      std::vector<int64_t> lv(rolling);
      for (int64_t k = 0; k < rolling; ++k)
        lv[k] = std::min<int64_t>(n, std::llround((k + tau) * static_cast<double>(n) / rolling));
      return lv;
    };
    StepOptions so;
    so.eta = ro.eta;
    torch::Tensor video = context, buffer = d.noise(b, rolling, context, gen);
    std::vector<int64_t> now(rolling, n);  // current levels of the rolling frames
    auto denoise_to = [&](const std::vector<int64_t>& next) {
      const int64_t have = video.size(1), past = std::min(have, clean);
      std::vector<int64_t> from(past, 0), to(past, 0);  // clean history: 0 → 0
      from.insert(from.end(), now.begin(), now.end());
      to.insert(to.end(), next.begin(), next.end());
      torch::Tensor x = torch::cat({video.slice(1, have - past, have), buffer}, 1);
      buffer = d.step(x, torch::tensor(from), torch::tensor(to), so, gen).slice(1, past);
      now = next;
    };
    // Ramp: from pure noise to the τ = 1 profile in S calls.
    const std::vector<int64_t> start = profile(1.0);
    for (int64_t j = 1; j <= steps; ++j) {
      std::vector<int64_t> next(rolling);
      for (int64_t k = 0; k < rolling; ++k)
        next[k] = n - std::llround(static_cast<double>(n - start[k]) * static_cast<double>(j) / steps);
      denoise_to(next);
    }
    // Roll: S calls per output frame; the front frame leaves clean, noise joins at the back.
    for (int64_t made = 0; made < horizon;) {
      for (int64_t j = 1; j <= steps; ++j) denoise_to(profile(1.0 - static_cast<double>(j) / steps));
      video = torch::cat({video, buffer.slice(1, 0, 1)}, 1);
      buffer = torch::cat({buffer.slice(1, 1), d.noise(b, 1, context, gen)}, 1);
      now.erase(now.begin());
      now.push_back(n);
      ++made;
      if (ro.on_frames) ro.on_frames(made);
    }
    return video;
  }

 private:
  // Clean history frames in a window of `frames`: the option, or half the window.
  int64_t clean_frames(int64_t frames) const {
    const int64_t clean = clean_option_ > 0 ? clean_option_ : frames / 2;
    if (clean >= frames)
      throw Error("rolling_diffusion: clean = " + std::to_string(clean) + " leaves no rolling frames in a window of " +
                  std::to_string(frames));
    return clean;
  }
  int64_t clean_option_;  // 0 = half the window
};

std::unique_ptr<Method> make(JsonReader& r) {
  int64_t clean = 0;
  r.get("clean", clean);
  const bool ok = r.check(clean >= 0, "clean", "must be >= 0 (0 = half the window)");
  r.finish();
  if (!ok) return nullptr;
  return std::make_unique<RollingDiffusion>(clean);
}

Registrar<MethodFactory> reg("rolling_diffusion",
                             "sliding window at linearly increasing levels; the front frame leaves when clean",
                             MethodFactory{&make});

}  // namespace
}  // namespace dfb

// The diffusion core shared by every method (docs/design.md §2): noise schedules, the
// forward process, prediction targets and their conversions, the weighted loss,
// and a DDIM step that moves every frame from its own level to its own level.
//
// Levels ℓ are integers 0..N (ℓ = 0 clean, ᾱ₀ = 1; ℓ = N pure noise or nearly);
// the network is shown ℓ / N. Level tensors are int64 [B, T]; frames [B, T, C, H, W].
#pragma once
#include <torch/types.h>

#include <string>

namespace dfb {

class JsonReader;

struct DiffusionOptions {
  int64_t levels = 1000;                  // N
  std::string schedule = "cosine";        // cosine | linear | sigmoid
  bool zero_terminal_snr = false;         // rescale so ᾱ_N = 0 (Lin et al. 2023); needs prediction v or x0
  std::string prediction = "v";           // v | eps | x0
  std::string loss_weight = "min_snr";    // min_snr | floored_min_snr | fused_snr | uniform
  double snr_gamma = 5.0;                 // γ of min-SNR (also the clip of fused_snr)
  double fused_snr_decay = 0.96;          // d of fused_snr
  double clip_noise = 6.0;                // ε clipped to ±clip_noise; 0 disables
  bool clip_x0 = true;                    // sampling: clamp x̂₀ to [-1, 1] (ε̂ recomputed from it)
};
void read_options(JsonReader& r, DiffusionOptions& o);

// ᾱ_ℓ for ℓ = 0..N (float64, CPU), ᾱ₀ = 1, non-increasing.
torch::Tensor make_alpha_bar(const DiffusionOptions& o);

class Diffusion {
 public:
  explicit Diffusion(DiffusionOptions options);

  const DiffusionOptions& options() const { return options_; }
  int64_t num_levels() const { return options_.levels; }  // N: levels 0 (clean) .. N (noise)
  const torch::Tensor& alpha_bar() const { return alpha_bar_; }  // [N + 1] float64, CPU
  // Sampling step s of S maps to level round(s · N / S).
  int64_t level_of_step(int64_t step, int64_t steps) const;

  // ε ~ N(0, I) shaped like `like`, drawn on the CPU from `gen` (so CPU and GPU draw alike), clipped.
  torch::Tensor noise_like(const torch::Tensor& like, at::Generator& gen) const;
  // x_ℓ = √ᾱ_ℓ · x₀ + √(1 − ᾱ_ℓ) · ε, per frame.
  torch::Tensor q_sample(const torch::Tensor& x0, const torch::Tensor& levels, const torch::Tensor& eps) const;

  // The training target for the configured prediction type.
  torch::Tensor target(const torch::Tensor& x0, const torch::Tensor& eps, const torch::Tensor& levels) const;
  struct Estimate {
    torch::Tensor x0, eps;
  };
  // x̂₀ and ε̂ from the network output at x_ℓ (exact inverses of target()).
  Estimate estimate(const torch::Tensor& xt, const torch::Tensor& prediction, const torch::Tensor& levels) const;
  // Prediction-space conversions (exposed for tests and guidance): v = √ᾱ ε − √(1−ᾱ) x₀.
  torch::Tensor v_from(const torch::Tensor& x0, const torch::Tensor& eps, const torch::Tensor& levels) const;

  // Per-frame loss weights [B, T] (0 where ℓ = 0) for the configured weighting.
  torch::Tensor loss_weights(const torch::Tensor& levels) const;
  // Σ_frames mask · w · mean_CHW (pred − target)² / Σ mask: a mean over the frames that carry loss.
  // `count` > 0 replaces Σ mask: the frames carrying loss in the whole batch when these rows are
  // one process's share of it (data-parallel training sums the shares).
  torch::Tensor loss(const torch::Tensor& prediction, const torch::Tensor& target, const torch::Tensor& levels,
                     const torch::Tensor& mask, double count = 0) const;

  // One DDIM step per frame from level `from` to level `to` (to <= from), given the estimates at x.
  // Frames with from == to are returned bit-for-bit unchanged. eta = 0: deterministic DDIM.
  torch::Tensor ddim_step(const torch::Tensor& x, const Estimate& est, const torch::Tensor& from,
                          const torch::Tensor& to, double eta, at::Generator& gen) const;

 private:
  // √ᾱ and √(1−ᾱ) at `levels`, shaped [B, T, 1, 1, 1] on `like`'s device and dtype.
  std::pair<torch::Tensor, torch::Tensor> coefficients(const torch::Tensor& levels, const torch::Tensor& like) const;

  DiffusionOptions options_;
  torch::Tensor alpha_bar_;
};

}  // namespace dfb

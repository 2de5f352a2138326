#include "diffusion/diffusion.h"

#include <torch/torch.h>

#include <cmath>

#include "base/error.h"
#include "base/json_reader.h"

namespace dfb {

void read_options(JsonReader& r, DiffusionOptions& o) {
  r.get("levels", o.levels)
      .get_choice("schedule", o.schedule, {"cosine", "linear", "sigmoid"})
      .get("zero_terminal_snr", o.zero_terminal_snr)
      .get_choice("prediction", o.prediction, {"v", "eps", "x0"})
      .get_choice("loss_weight", o.loss_weight, {"min_snr", "floored_min_snr", "fused_snr", "uniform"})
      .get("snr_gamma", o.snr_gamma)
      .get("fused_snr_decay", o.fused_snr_decay)
      .get("clip_noise", o.clip_noise)
      .get("clip_x0", o.clip_x0);
  r.check(o.levels >= 2, "levels", "must be >= 2");
  r.check(o.snr_gamma > 0, "snr_gamma", "must be > 0");
  r.check(o.fused_snr_decay >= 0 && o.fused_snr_decay < 1, "fused_snr_decay", "must be in [0, 1)");
  r.check(o.clip_noise >= 0, "clip_noise", "must be >= 0 (0 disables)");
  r.check(!(o.zero_terminal_snr && o.prediction == "eps"), "zero_terminal_snr",
          "cannot be used with prediction 'eps' (x0 is undefined at zero SNR); use 'v'");
  r.check(!(o.loss_weight == "floored_min_snr" && o.prediction == "eps"), "loss_weight",
          "'floored_min_snr' cannot be used with prediction 'eps' (its weight 1/snr grows without bound at the noisiest levels); use 'v' or 'x0'");
  r.check(!(o.loss_weight == "floored_min_snr" && o.snr_gamma < 1), "snr_gamma", "must be >= 1 with 'floored_min_snr'");
  r.finish();
}

torch::Tensor make_alpha_bar(const DiffusionOptions& o) {
  const int64_t n = o.levels;
  auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  torch::Tensor ab;
  if (o.schedule == "linear") {
    torch::Tensor betas = torch::linspace(1e-4, 0.02, n, f64);
    ab = torch::cat({torch::ones({1}, f64), torch::cumprod(1.0 - betas, 0)});
  } else if (o.schedule == "cosine" || o.schedule == "sigmoid") {
    // A continuous ᾱ(t), t in [0, 1], discretised through betas clipped to 0.999
    // so that ᾱ_N stays (barely) above zero.
    torch::Tensor t = torch::linspace(0.0, 1.0, n + 1, f64);
    torch::Tensor f;
    if (o.schedule == "cosine") {
      const double s = 0.008;
      f = torch::cos((t + s) / (1 + s) * M_PI / 2).pow(2);
    } else {
      const double start = -3, end = 3, tau = 1;
      const double v_start = 1 / (1 + std::exp(-start / tau)), v_end = 1 / (1 + std::exp(-end / tau));
      f = (v_end - torch::sigmoid((t * (end - start) + start) / tau)) / (v_end - v_start);
    }
    f = f / f[0];
    torch::Tensor betas = (1 - f.slice(0, 1) / f.slice(0, 0, n)).clamp(0, 0.999);
    ab = torch::cat({torch::ones({1}, f64), torch::cumprod(1.0 - betas, 0)});
  } else {
    throw Error("unknown schedule '" + o.schedule + "'");
  }
  if (o.zero_terminal_snr) {
    torch::Tensor s = ab.sqrt();
    const double s0 = s[0].item<double>(), sn = s[n].item<double>();
    s = (s - sn) * (s0 / (s0 - sn));
    ab = s.pow(2);
  }
  return ab;
}

Diffusion::Diffusion(DiffusionOptions options) : options_(std::move(options)) {
  alpha_bar_ = make_alpha_bar(options_);
}

int64_t Diffusion::level_of_step(int64_t step, int64_t steps) const {
  return static_cast<int64_t>(std::llround(static_cast<double>(step) * options_.levels / steps));
}

torch::Tensor Diffusion::noise_like(const torch::Tensor& like, at::Generator& gen) const {
  torch::Tensor eps = torch::randn(like.sizes(), gen, torch::TensorOptions().dtype(torch::kFloat32));
  if (options_.clip_noise > 0) eps = eps.clamp(-options_.clip_noise, options_.clip_noise);
  return eps.to(like.device(), like.scalar_type());
}

std::pair<torch::Tensor, torch::Tensor> Diffusion::coefficients(const torch::Tensor& levels,
                                                                const torch::Tensor& like) const {
  torch::Tensor ab = alpha_bar_.index_select(0, levels.reshape({-1}).to(torch::kCPU)).reshape(levels.sizes());
  ab = ab.to(like.device(), like.scalar_type());
  std::vector<int64_t> shape = levels.sizes().vec();
  while (static_cast<int64_t>(shape.size()) < like.dim()) shape.push_back(1);
  ab = ab.reshape(shape);
  return {ab.sqrt(), (1 - ab).clamp_min(0).sqrt()};
}

torch::Tensor Diffusion::q_sample(const torch::Tensor& x0, const torch::Tensor& levels,
                                  const torch::Tensor& eps) const {
  auto [a, s] = coefficients(levels, x0);
  return a * x0 + s * eps;
}

torch::Tensor Diffusion::v_from(const torch::Tensor& x0, const torch::Tensor& eps, const torch::Tensor& levels) const {
  auto [a, s] = coefficients(levels, x0);
  return a * eps - s * x0;
}

torch::Tensor Diffusion::target(const torch::Tensor& x0, const torch::Tensor& eps, const torch::Tensor& levels) const {
  if (options_.prediction == "v") return v_from(x0, eps, levels);
  if (options_.prediction == "eps") return eps;
  return x0;
}

Diffusion::Estimate Diffusion::estimate(const torch::Tensor& xt, const torch::Tensor& prediction,
                                        const torch::Tensor& levels) const {
  auto [a, s] = coefficients(levels, xt);
  Estimate e;
  if (options_.prediction == "v") {
    e.x0 = a * xt - s * prediction;
    e.eps = s * xt + a * prediction;
  } else if (options_.prediction == "eps") {
    e.eps = prediction;
    e.x0 = (xt - s * prediction) / a.clamp_min(1e-8);
  } else {
    e.x0 = prediction;
    e.eps = (xt - a * prediction) / s.clamp_min(1e-8);
  }
  if (options_.clip_x0) {
    e.x0 = e.x0.clamp(-1, 1);
    // Keep ε̂ consistent with the clipped x̂₀ where it is defined (s > 0).
    e.eps = torch::where(s > 1e-8, (xt - a * e.x0) / s.clamp_min(1e-8), e.eps);
  }
  return e;
}

torch::Tensor Diffusion::loss_weights(const torch::Tensor& levels) const {
  torch::Tensor ab = alpha_bar_.index_select(0, levels.reshape({-1}).to(torch::kCPU)).reshape(levels.sizes());
  const double gamma = options_.snr_gamma;
  torch::Tensor snr = ab / (1 - ab).clamp_min(1e-20);  // ℓ = 0 gives a huge SNR; its weight is set to 0 below
  torch::Tensor w;
  if (options_.loss_weight == "uniform") {
    w = torch::ones_like(snr);
  } else if (options_.loss_weight == "min_snr" || options_.loss_weight == "floored_min_snr") {
    // In x0 units min(snr, γ); floored_min_snr also keeps it at least 1 (max(snr, 1) is Salimans
    // and Ho's truncated-SNR weight), so the noisiest levels, where the layout is decided, keep a
    // weight of order one instead of vanishing with snr.
    torch::Tensor clipped = options_.loss_weight == "min_snr" ? snr.clamp_max(gamma) : snr.clamp(1.0, gamma);
    if (options_.prediction == "v") w = clipped / (snr + 1);
    else if (options_.prediction == "eps") w = clipped / snr.clamp_min(1e-20);
    else w = clipped;
  } else {
    // fused_snr (Diffusion Forcing): an exponential moving average of the normalised, clipped SNR
    // along the frame axis lets a frame's weight depend on how much its past tells about it.
    const double d = options_.fused_snr_decay;
    torch::Tensor norm_clipped = snr.clamp_max(gamma) / gamma, norm = snr / gamma;
    torch::Tensor cum = torch::zeros_like(norm);
    // cum[t] summarises frames < t: cum[1] = n[0], cum[t] = d·cum[t−1] + (1−d)·n[t−1].
    for (int64_t t = 1; t < levels.size(1); ++t) {
      torch::Tensor prev = norm_clipped.select(1, t - 1);
      cum.select(1, t).copy_(t == 1 ? prev : d * cum.select(1, t - 1) + (1 - d) * prev);
    }
    torch::Tensor fused_clipped = 1 - (1 - cum * d) * (1 - norm_clipped);
    torch::Tensor fused = 1 - (1 - cum * d) * (1 - norm);
    if (options_.prediction == "v") w = fused_clipped * gamma / (fused * gamma + 1);
    else if (options_.prediction == "eps") w = fused_clipped / fused.clamp_min(1e-20);
    else w = fused_clipped * gamma;
  }
  w = torch::where(levels.to(torch::kCPU) == 0, torch::zeros_like(w), w);
  return w.to(torch::kFloat32);
}

torch::Tensor Diffusion::loss(const torch::Tensor& prediction, const torch::Tensor& target,
                              const torch::Tensor& levels, const torch::Tensor& mask, double count) const {
  torch::Tensor per_frame = (prediction - target).pow(2).flatten(2).mean(-1);  // [B, T]
  torch::Tensor w = loss_weights(levels).to(per_frame.device()) * mask.to(per_frame.dtype());
  if (count > 0) return (per_frame * w).sum() / count;
  return (per_frame * w).sum() / mask.to(per_frame.dtype()).sum().clamp_min(1);
}

torch::Tensor Diffusion::ddim_step(const torch::Tensor& x, const Estimate& est, const torch::Tensor& from,
                                   const torch::Tensor& to, double eta, at::Generator& gen) const {
  auto [a_to, s_to] = coefficients(to, x);
  torch::Tensor xnext = a_to * est.x0;
  if (eta > 0) {
    auto [a_from, s_from] = coefficients(from, x);
    torch::Tensor ab_to = a_to.pow(2), ab_from = a_from.pow(2);
    torch::Tensor sigma = eta * ((1 - ab_to) / (1 - ab_from).clamp_min(1e-20)).sqrt() *
                          (1 - ab_from / ab_to.clamp_min(1e-20)).clamp_min(0).sqrt();
    xnext = xnext + (s_to.pow(2) - sigma.pow(2)).clamp_min(0).sqrt() * est.eps + sigma * noise_like(x, gen);
  } else {
    xnext = xnext + s_to * est.eps;
  }
  torch::Tensor moving = (from != to).to(x.device());
  std::vector<int64_t> shape = moving.sizes().vec();
  while (static_cast<int64_t>(shape.size()) < x.dim()) shape.push_back(1);
  return torch::where(moving.reshape(shape), xnext, x);
}

}  // namespace dfb

// Fréchet distance in float64 (see frechet.h for the formula and its form).
#include "metrics/frechet.h"

#include <torch/torch.h>

#include <algorithm>

#include "base/error.h"

namespace dfb {

namespace {

int64_t needed_samples(int64_t dim, const FrechetOptions& options) {
  return std::max<int64_t>(2, options.min_samples > 0 ? options.min_samples : dim + 1);
}

void check_features(const torch::Tensor& features, const std::string& what, int64_t samples,
                    const FrechetOptions& options) {
  if (features.dim() != 2)
    throw Error(what + ": features must be [n, d], got " + std::to_string(features.dim()) + " axes");
  const int64_t dim = features.size(1), need = needed_samples(dim, options);
  if (samples < need)
    throw Error(what + ": " + std::to_string(samples) + " samples of " + std::to_string(dim) +
                " features; the Fréchet distance needs at least " + std::to_string(need) +
                (options.min_samples > 0 ? "" : " (feature dimension + 1, for a full-rank covariance)") +
                ": roll out more clips, or use an encoder with fewer features");
  if (!torch::isfinite(features).all().item<bool>())
    throw Error(what + ": a feature is NaN or infinite (a NaN frame, or a broken encoder)");
}

// Σ^½ of a symmetric PSD matrix from its eigendecomposition (eigenvalues clipped at 0).
torch::Tensor psd_sqrt(const torch::Tensor& cov) {
  auto [values, vectors] = at::linalg_eigh(cov);
  return vectors.matmul(torch::diag(values.clamp_min(0).sqrt())).matmul(vectors.t());
}

// Σ eigenvalues^½ of root·C·root, per leading batch index.
torch::Tensor trace_sqrt_product(const torch::Tensor& root, const torch::Tensor& cov) {
  torch::Tensor m = root.matmul(cov).matmul(root);
  m = 0.5 * (m + m.transpose(-1, -2));  // symmetric up to rounding; make it exactly so
  return at::linalg_eigvalsh(m).clamp_min(0).sqrt().sum(-1);
}

}  // namespace

FeatureGaussian fit_gaussian(const torch::Tensor& features, const std::string& what, const FrechetOptions& options) {
  check_features(features, what, features.dim() == 2 ? features.size(0) : 0, options);
  const torch::Tensor x = features.to(torch::kFloat64);
  FeatureGaussian g;
  g.samples = x.size(0);
  g.mean = x.mean(0);
  const torch::Tensor centred = x - g.mean;
  g.cov = centred.t().matmul(centred) / static_cast<double>(g.samples - 1);
  return g;
}

double frechet_distance(const FeatureGaussian& a, const FeatureGaussian& b) {
  if (a.mean.size(0) != b.mean.size(0))
    throw Error("frechet_distance: feature dimensions differ (" + std::to_string(a.mean.size(0)) + " vs " +
                std::to_string(b.mean.size(0)) + ")");
  return FrechetReference(a).distance(b);
}

FrechetReference::FrechetReference(FeatureGaussian reference)
    : reference_(std::move(reference)),
      root_(psd_sqrt(reference_.cov)),
      trace_reference_(reference_.cov.trace().item<double>()) {}

double FrechetReference::distance(const FeatureGaussian& g) const {
  if (g.mean.size(0) != dim())
    throw Error("Fréchet distance: " + std::to_string(g.mean.size(0)) + " features against a reference of " +
                std::to_string(dim()));
  const double mean_term = (g.mean - reference_.mean).pow(2).sum().item<double>();
  const double cross = trace_sqrt_product(root_, g.cov).item<double>();
  return mean_term + trace_reference_ + g.cov.trace().item<double>() - 2.0 * cross;
}

std::vector<double> FrechetReference::distances(const torch::Tensor& features, const torch::Tensor& picks,
                                                const std::string& what, const FrechetOptions& options) const {
  if (picks.dim() != 2) throw Error(what + ": picks must be [resamples, n]");
  check_features(features, what, picks.size(1), options);
  if (features.size(1) != dim())
    throw Error(what + ": " + std::to_string(features.size(1)) + " features against a reference of " +
                std::to_string(dim()));
  const torch::Tensor x = features.to(torch::kFloat64).index_select(0, picks.reshape(-1)).view(
      {picks.size(0), picks.size(1), dim()});
  const double n = static_cast<double>(picks.size(1));
  const torch::Tensor mean = x.mean(1);                        // [R, d]
  const torch::Tensor centred = x - mean.unsqueeze(1);
  const torch::Tensor cov = centred.transpose(1, 2).bmm(centred) / (n - 1.0);  // [R, d, d]
  const torch::Tensor d2 = (mean - reference_.mean).pow(2).sum(-1) + trace_reference_ +
                           cov.diagonal(0, -2, -1).sum(-1) - 2.0 * trace_sqrt_product(root_, cov);
  const torch::Tensor out = d2.contiguous();
  return std::vector<double>(out.data_ptr<double>(), out.data_ptr<double>() + out.numel());
}

}  // namespace dfb

// The Fréchet distance between two Gaussians fitted to feature sets (docs/design.md §6):
//   d² = ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2 (Σ₁^½ Σ₂ Σ₁^½)^½)
// in float64, with unbiased covariances (divided by n − 1), and the trace of the
// matrix square root taken from the eigenvalues of the symmetric PSD matrix
// Σ₁^½ Σ₂ Σ₁^½ (clipped at 0), so no non-symmetric square root is ever needed.
// Σ₁ is the reference (real frames): its square root is computed once and reused
// for every generated set and every bootstrap resample.
#pragma once
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace dfb {

struct FrechetOptions {
  // Fewest samples a feature set may have: 0 = feature dimension + 1, the least
  // for which an unbiased covariance can have full rank. At least 2 in any case.
  int64_t min_samples = 0;
};

// Mean and unbiased covariance of `features` [n, d] (any float type; computed in float64).
struct FeatureGaussian {
  torch::Tensor mean;  // [d] float64
  torch::Tensor cov;   // [d, d] float64
  int64_t samples = 0;
};

// Throws dfb::Error "<what>: N samples of D features; the Fréchet distance needs at least M ..."
// when there are too few samples, or when a feature is NaN or infinite.
FeatureGaussian fit_gaussian(const torch::Tensor& features, const std::string& what,
                             const FrechetOptions& options = {});

// Fréchet distance from a fixed reference Gaussian (the real frames).
class FrechetReference {
 public:
  explicit FrechetReference(FeatureGaussian reference);
  int64_t dim() const { return reference_.mean.size(0); }
  const FeatureGaussian& reference() const { return reference_; }

  double distance(const FeatureGaussian& g) const;
  // The distance for every resample at once: features [n, d], picks [R, n] int64 indices
  // into the rows (row r of picks is one bootstrap resample). Returns R distances.
  // `what` names the set in errors; `min_samples` as in FrechetOptions.
  std::vector<double> distances(const torch::Tensor& features, const torch::Tensor& picks,
                                const std::string& what, const FrechetOptions& options = {}) const;

 private:
  FeatureGaussian reference_;
  torch::Tensor root_;        // Σ_ref^½, [d, d]
  double trace_reference_;    // Tr Σ_ref
};

// Plain two-set form (both Gaussians given), the formula above.
double frechet_distance(const FeatureGaussian& a, const FeatureGaussian& b);

}  // namespace dfb

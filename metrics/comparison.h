// Statistics for claims between methods, in the style of rliable (Agarwal et al. 2021):
// probability of improvement from per-rollout scores, the interquartile mean, a bootstrap
// stratified by training seed, and two drift summaries that are not noise (a persistent
// stable horizon and LV-Bench's Video Drift Error). Definitions with formulas: docs/metrics.md
// "Comparing methods". Torch-free.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "metrics/curves.h"

namespace dfb {

// P(X > Y) for X drawn from `a`, Y from `b`: the Mann–Whitney U over n_a·n_b, a tie counting ½.
// NaNs are skipped; NaN when either side has no finite value. O((n_a + n_b) log(n_a + n_b)).
double probability_of_improvement(const std::vector<double>& a, const std::vector<double>& b);

// The interquartile mean: the mean of the values left after dropping floor(n/4) from each end of
// the sorted finite values (scipy.stats.trim_mean(x, 0.25), as rliable uses). NaN if none.
double interquartile_mean(std::vector<double> values);

// Bootstrap picks stratified by seed: the rollouts are `strata` seeds of `per_stratum` clips each,
// rollout i of seed g being index g·per_stratum + i. Row 0 is the identity; row r keeps every seed
// and draws, within each, per_stratum of its clips with replacement. The clip draw of seed g in
// row r depends only on (options.seed, g, r), so two methods trained with the same seeds on the
// same clips are resampled in step (their clips stay paired).
std::vector<std::vector<int64_t>> stratified_picks(int64_t per_stratum, int64_t strata, const BootstrapOptions& options);

// Per-rollout scores of a window: the mean over t in [first, last) of each row of `values`
// ([rollouts][length], NaN where undefined); NaN for a rollout with no finite value there.
std::vector<double> window_scores(const std::vector<std::vector<double>>& values, int64_t first, int64_t last);

// The values at `picks` (one resample).
std::vector<double> take(const std::vector<double>& values, const std::vector<int64_t>& picks);

// P(A better than B) with its interval, over the rows of stratified picks (each method's own
// picks; row 0 the identity). `higher_is_better` false compares −score.
Interval probability_of_improvement(const std::vector<double>& a, const std::vector<std::vector<int64_t>>& picks_a,
                                    const std::vector<double>& b, const std::vector<std::vector<int64_t>>& picks_b,
                                    bool higher_is_better, double level);

// The verdict an interval of P supports: +1 A better (lo > 0.5), −1 B better (hi < 0.5), 0 no
// detectable difference (the interval holds 0.5, or is undefined).
int verdict_of(const Interval& p);

struct HorizonOptions {
  int64_t smooth = 5;   // centred moving-average width (odd), over the generated frames only
  int64_t persist = 8;  // frames the smoothed curve must stay outside the band
};
// The persistent stable horizon (docs/metrics.md): the first generated frame t >= context after
// which the smoothed curve lies outside [band_lo, band_hi] for `persist` consecutive frames
// (each counted frame must exist). `length` (the curve's size) when it never does; NaN when there
// is no band (band_lo > band_hi) or no generated frame.
double persistent_horizon(const std::vector<double>& curve, int64_t context, double band_lo, double band_hi,
                          const HorizonOptions& options = {});

// LV-Bench's Video Drift Error over chunks m_1..m_K (here the windows: within T_train, then each
// k·T_train): VDE = Σ_{i≥2} w_i·|m_i − m_1| / |m_1| with linear weights w_i = (i − 1) / Σ_{j=2..K}(j − 1).
// NaN when K < 2, m_1 is 0 or not finite, or a chunk is not finite.
double video_drift_error(const std::vector<double>& chunks);

// One method's per-rollout values of a metric: `seeds` blocks of the same `clips` rollouts,
// rollout i of seed g in row g·clips + i, each row [length] (NaN where undefined).
struct MethodScores {
  std::string name;
  int64_t seeds = 1;
  std::vector<std::vector<double>> values;
};

// The comparison of methods by one metric (metrics.json "comparisons.<metric>", docs/metrics.md):
//   windows: {"within": [first, last), "2": [...], ...} (frames of the file);
//   methods.<m>.<window>: {mean, iqm (each with its interval), per_seed: [means], seed_sd};
//   pairs: [{a, b, window, p: P(a better than b) with its interval, verdict: "a" | "b" | "none"}]
//   for every unordered pair in the order given, every window.
// Intervals come from stratified_picks(clips, max seeds, options): seeds kept, clips resampled within
// each, the same clip draws for every method.
nlohmann::json compare_methods(const std::vector<MethodScores>& methods, int64_t clips, const Windows& windows,
                               bool higher_is_better, const BootstrapOptions& options);

}  // namespace dfb

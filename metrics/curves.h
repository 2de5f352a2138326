// Quality over the frame index, with 95% bootstrap intervals over rollouts, and the
// degradation summaries of docs/design.md §6. Torch-free.
//
// A metric is given as a function from a resample of the rollouts (B indices drawn with
// replacement) to its curve over the frame index: for per-rollout metrics the mean over the
// picked rollouts at each t, for distribution metrics (Fréchet distances) the distance of
// the picked rollouts' frames at t. Resample 0 is always the identity, which gives the
// reported value; the interval comes from the other resamples (IntervalKind).
#pragma once
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace dfb {

struct BootstrapOptions {
  int64_t resamples = 1000;  // besides the identity
  double level = 0.95;       // central interval
  uint64_t seed = 0;
};

// Row 0 is 0..rollouts−1; rows 1..resamples draw `rollouts` indices with replacement
// (splitmix64 from the seed: the same on every platform).
std::vector<std::vector<int64_t>> bootstrap_picks(int64_t rollouts, const BootstrapOptions& options);

// Picks over `groups` sets of rollouts of the same clips (a method's seeds), rollout i of group
// g being index g·rollouts + i: row 0 is the identity over all of them; row r draws `groups`
// groups with replacement (its own seeded stream) and takes from each the clips of picks[r].
// Seeds and clips are resampled as the two crossed factors they are, and clips stay paired
// with the other methods' resamples. groups == 1 returns `picks`.
std::vector<std::vector<int64_t>> grouped_picks(const std::vector<std::vector<int64_t>>& picks, int64_t groups,
                                                const BootstrapOptions& options);

struct Interval {
  double mean = 0, lo = 0, hi = 0;  // value on all rollouts, and the bootstrap interval (NaN if undefined)
};
// How an interval is read off the resamples' values q (θ = the value on all rollouts).
enum class IntervalKind {
  kPercentile,  // [q_lo, q_hi]: for means over rollouts
  kDebiased,    // [q_lo − b, q_hi − b] with b = mean(q) − θ, the bootstrap's estimate of its own
                // bias: for statistics a resample biases, like a Fréchet distance (repeated
                // rollouts shrink the effective sample and raise it, so the raw percentiles
                // would sit above θ); the resamples then give the spread only
};
// The value of resample 0 and the interval of the others (NaNs skipped).
Interval interval_of(const std::vector<double>& per_resample, double level,
                     IntervalKind kind = IntervalKind::kPercentile);

// Per-rollout values [rollouts][length] (NaN where undefined) → one curve per pick: the mean
// over the picked rollouts at each t, skipping NaNs.
std::vector<std::vector<double>> mean_curves(const std::vector<std::vector<double>>& values,
                                             const std::vector<std::vector<int64_t>>& picks);

struct Windows {
  int64_t context = 0, t_train = 0, length = 0;  // frames counted from the first frame of the file
};

// The summaries of one curve (docs/design.md §6); NaN when the curve has no value in the window.
struct Summary {
  double within = 0;             // mean over t in [context, t_train)
  std::vector<int64_t> k;        // multiples k >= 2 with k·t_train <= length
  std::vector<double> at;        // mean over t in [(k−1)·t_train, k·t_train)
  std::vector<double> ratio;     // at / within
  double delta_drift = 0;        // |mean of the first 15% of generated frames − mean of the last 15%|
  double slope_per_100 = 0;      // least-squares slope over the generated frames, per 100 frames
  double vde = 0;                // Video Drift Error over the chunks within, at[0], at[1], ... (comparison.h)
  double stable_horizon = 0;     // persistent: first generated t after which the smoothed curve stays outside
                                 // [band_lo, band_hi] for 8 frames (comparison.h); length if never
  double first_exit = 0;         // literal: first generated t whose value leaves the band (noisy); length if none
};
// `band_lo > band_hi` (no band) leaves stable_horizon and first_exit NaN.
Summary summarize(const std::vector<double>& curve, const Windows& w, double band_lo, double band_hi);

// The band real data spans: [min over t of min(value, lo), max over t of max(value, hi)] of the
// truth's curve over the generated frames t >= context.
std::pair<double, double> real_band(const std::vector<Interval>& truth_curve, int64_t context);

// A metric's curve and summaries with intervals, from its per-resample curves.
struct MetricCurves {
  std::vector<Interval> curve;   // per t
  struct Summaries {
    Interval within, delta_drift, slope_per_100, vde, stable_horizon, first_exit;
    std::vector<int64_t> k;
    std::vector<Interval> at, ratio;
    bool horizon_censored = false;  // the metric never left the band (stable_horizon = length)
    bool has_horizon = false;
  } summary;
};
MetricCurves summarize_resamples(const std::vector<std::vector<double>>& per_resample_curves, const Windows& w,
                                 double band_lo, double band_hi, double level,
                                 IntervalKind kind = IntervalKind::kPercentile);

nlohmann::json to_json(const Interval& v);
nlohmann::json to_json(const MetricCurves::Summaries& s);
// The one reader of what those write (metrics.json's per-method summaries, read back by
// reports): null values are NaN; throws dfb::Error naming `where` when the shape is wrong.
Interval interval_from_json(const nlohmann::json& j, const std::string& where);
MetricCurves::Summaries summaries_from_json(const nlohmann::json& j, const std::string& where);

}  // namespace dfb

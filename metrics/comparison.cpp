// Probability of improvement, IQM, the seed-stratified bootstrap and drift summaries
// (see comparison.h; formulas in docs/metrics.md).
#include "metrics/comparison.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "base/error.h"
#include "base/rng.h"

namespace dfb {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::vector<double> finite(const std::vector<double>& v) {
  std::vector<double> out;
  out.reserve(v.size());
  for (double x : v)
    if (std::isfinite(x)) out.push_back(x);
  return out;
}

double finite_mean(const std::vector<double>& v) {
  double sum = 0;
  int64_t n = 0;
  for (double x : v)
    if (std::isfinite(x)) sum += x, ++n;
  return n > 0 ? sum / static_cast<double>(n) : kNaN;
}

bool outside(double v, double lo, double hi) { return std::isfinite(v) && (v < lo || v > hi); }

}  // namespace

double probability_of_improvement(const std::vector<double>& a_in, const std::vector<double>& b_in) {
  const std::vector<double> a = finite(a_in), b = finite(b_in);
  if (a.empty() || b.empty()) return kNaN;
  // Midranks of the pooled sample; U_a = (sum of a's ranks) − n_a(n_a + 1)/2 counts the pairs a > b,
  // a tie ½.
  std::vector<std::pair<double, bool>> pooled;  // value, from a
  pooled.reserve(a.size() + b.size());
  for (double x : a) pooled.emplace_back(x, true);
  for (double x : b) pooled.emplace_back(x, false);
  std::sort(pooled.begin(), pooled.end(), [](const auto& l, const auto& r) { return l.first < r.first; });
  double rank_sum_a = 0;
  for (size_t i = 0; i < pooled.size();) {
    size_t j = i;
    int64_t from_a = 0;
    while (j < pooled.size() && pooled[j].first == pooled[i].first) from_a += pooled[j++].second ? 1 : 0;
    const double midrank = 0.5 * static_cast<double>(i + 1 + j);  // ranks i+1..j
    rank_sum_a += midrank * static_cast<double>(from_a);
    i = j;
  }
  const double na = static_cast<double>(a.size()), nb = static_cast<double>(b.size());
  return (rank_sum_a - na * (na + 1) / 2) / (na * nb);
}

double interquartile_mean(std::vector<double> values) {
  values = finite(values);
  if (values.empty()) return kNaN;
  std::sort(values.begin(), values.end());
  const size_t cut = values.size() / 4;
  double sum = 0;
  for (size_t i = cut; i < values.size() - cut; ++i) sum += values[i];
  return sum / static_cast<double>(values.size() - 2 * cut);
}

std::vector<std::vector<int64_t>> stratified_picks(int64_t per_stratum, int64_t strata, const BootstrapOptions& o) {
  if (per_stratum < 1 || strata < 1) throw Error("bootstrap: needs at least one seed of at least one rollout");
  if (o.resamples < 0) throw Error("bootstrap: resamples must be >= 0");
  const int64_t n = per_stratum * strata;
  std::vector<std::vector<int64_t>> picks(static_cast<size_t>(o.resamples + 1), std::vector<int64_t>(n));
  for (int64_t i = 0; i < n; ++i) picks[0][i] = i;
  for (int64_t g = 0; g < strata; ++g) {
    uint64_t state = o.seed ^ 0x57a7ull ^ (0x9E3779B97F4A7C15ull * static_cast<uint64_t>(g + 1));
    for (int64_t r = 1; r <= o.resamples; ++r)
      for (int64_t i = 0; i < per_stratum; ++i)
        picks[r][g * per_stratum + i] =
            g * per_stratum + static_cast<int64_t>(splitmix64(state) % static_cast<uint64_t>(per_stratum));
  }
  return picks;
}

std::vector<double> window_scores(const std::vector<std::vector<double>>& values, int64_t first, int64_t last) {
  std::vector<double> out;
  out.reserve(values.size());
  for (const auto& row : values) {
    const int64_t lo = std::max<int64_t>(0, first), hi = std::min<int64_t>(last, static_cast<int64_t>(row.size()));
    out.push_back(lo < hi ? finite_mean(std::vector<double>(row.begin() + lo, row.begin() + hi)) : kNaN);
  }
  return out;
}

std::vector<double> take(const std::vector<double>& values, const std::vector<int64_t>& picks) {
  std::vector<double> out;
  out.reserve(picks.size());
  for (int64_t i : picks) {
    if (i < 0 || i >= static_cast<int64_t>(values.size())) throw Error("bootstrap: pick out of range");
    out.push_back(values[static_cast<size_t>(i)]);
  }
  return out;
}

Interval probability_of_improvement(const std::vector<double>& a, const std::vector<std::vector<int64_t>>& picks_a,
                                    const std::vector<double>& b, const std::vector<std::vector<int64_t>>& picks_b,
                                    bool higher_is_better, double level) {
  if (picks_a.size() != picks_b.size() || picks_a.empty())
    throw Error("probability of improvement: both methods need the same number of resamples");
  auto sign = [&](std::vector<double> v) {
    if (!higher_is_better)
      for (double& x : v) x = -x;
    return v;
  };
  std::vector<double> per_resample;
  per_resample.reserve(picks_a.size());
  for (size_t r = 0; r < picks_a.size(); ++r)
    per_resample.push_back(probability_of_improvement(sign(take(a, picks_a[r])), sign(take(b, picks_b[r]))));
  return interval_of(per_resample, level);
}

int verdict_of(const Interval& p) {
  if (!std::isfinite(p.lo) || !std::isfinite(p.hi)) return 0;
  if (p.lo > 0.5) return 1;
  if (p.hi < 0.5) return -1;
  return 0;
}

double persistent_horizon(const std::vector<double>& curve, int64_t context, double band_lo, double band_hi,
                          const HorizonOptions& o) {
  const int64_t L = static_cast<int64_t>(curve.size());
  if (band_lo > band_hi || context >= L) return kNaN;
  if (o.smooth < 1 || o.smooth % 2 == 0) throw Error("stable horizon: smooth must be odd and >= 1");
  if (o.persist < 1) throw Error("stable horizon: persist must be >= 1");
  const int64_t h = o.smooth / 2;
  std::vector<double> smoothed(static_cast<size_t>(L), kNaN);
  for (int64_t t = context; t < L; ++t) {
    double sum = 0;
    int64_t n = 0;
    for (int64_t u = std::max(context, t - h); u <= std::min(L - 1, t + h); ++u)
      if (std::isfinite(curve[u])) sum += curve[u], ++n;
    if (n > 0) smoothed[t] = sum / static_cast<double>(n);
  }
  int64_t run = 0;
  for (int64_t t = context; t < L; ++t) {
    run = outside(smoothed[t], band_lo, band_hi) ? run + 1 : 0;
    if (run == o.persist) return static_cast<double>(t - o.persist + 1);
  }
  return static_cast<double>(L);
}

double video_drift_error(const std::vector<double>& m) {
  const size_t K = m.size();
  if (K < 2 || !std::isfinite(m[0]) || m[0] == 0) return kNaN;
  const double total = static_cast<double>(K * (K - 1)) / 2;  // Σ_{i=2..K} (i − 1)
  double vde = 0;
  for (size_t i = 1; i < K; ++i) {
    if (!std::isfinite(m[i])) return kNaN;
    vde += static_cast<double>(i) / total * std::fabs(m[i] - m[0]) / std::fabs(m[0]);
  }
  return vde;
}

nlohmann::json compare_methods(const std::vector<MethodScores>& methods, int64_t clips, const Windows& w,
                               bool higher_is_better, const BootstrapOptions& o) {
  if (clips < 1) throw Error("compare methods: needs at least one clip");
  int64_t max_seeds = 1;
  for (const MethodScores& m : methods) {
    if (m.seeds < 1 || static_cast<int64_t>(m.values.size()) != m.seeds * clips)
      throw Error("compare methods: " + m.name + " has " + std::to_string(m.values.size()) + " rollouts, not " +
                  std::to_string(m.seeds) + " seeds × " + std::to_string(clips) + " clips");
    max_seeds = std::max(max_seeds, m.seeds);
  }
  const auto all_picks = stratified_picks(clips, max_seeds, o);
  // A method of G seeds uses the first G strata of every row (stratified_picks draws each stratum alone).
  auto picks_of = [&](int64_t seeds) {
    std::vector<std::vector<int64_t>> p(all_picks.size());
    for (size_t r = 0; r < p.size(); ++r) p[r].assign(all_picks[r].begin(), all_picks[r].begin() + seeds * clips);
    return p;
  };
  std::vector<std::pair<std::string, std::pair<int64_t, int64_t>>> windows = {{"within", {w.context, w.t_train}}};
  for (int64_t k = 2; w.t_train > 0 && k * w.t_train <= w.length; ++k)
    windows.push_back({std::to_string(k), {(k - 1) * w.t_train, k * w.t_train}});

  nlohmann::json out = {{"higher_is_better", higher_is_better},
                        {"windows", nlohmann::json::object()},
                        {"methods", nlohmann::json::object()},
                        {"pairs", nlohmann::json::array()}};
  for (const auto& [name, range] : windows) out["windows"][name] = {range.first, range.second};
  std::vector<std::vector<std::vector<int64_t>>> picks;
  for (const MethodScores& m : methods) picks.push_back(picks_of(m.seeds));
  for (const auto& [window, range] : windows) {
    std::vector<std::vector<double>> scores;
    for (size_t i = 0; i < methods.size(); ++i) {
      const MethodScores& m = methods[i];
      scores.push_back(window_scores(m.values, range.first, range.second));
      std::vector<double> means, iqms;
      for (const auto& row : picks[i]) {
        const std::vector<double> v = take(scores.back(), row);
        means.push_back(finite_mean(v));
        iqms.push_back(interquartile_mean(v));
      }
      std::vector<double> per_seed;
      for (int64_t g = 0; g < m.seeds; ++g) {
        const std::vector<double> block(scores.back().begin() + g * clips, scores.back().begin() + (g + 1) * clips);
        per_seed.push_back(finite_mean(block));
      }
      double sd = kNaN;
      if (per_seed.size() >= 2) {
        double mean = 0, ss = 0;
        for (double x : per_seed) mean += x;
        mean /= static_cast<double>(per_seed.size());
        for (double x : per_seed) ss += (x - mean) * (x - mean);
        sd = std::sqrt(ss / static_cast<double>(per_seed.size() - 1));
      }
      nlohmann::json seeds_json = nlohmann::json::array();
      for (double x : per_seed) seeds_json.push_back(std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr));
      out["methods"][m.name][window] = {{"mean", to_json(interval_of(means, o.level))},
                                        {"iqm", to_json(interval_of(iqms, o.level))},
                                        {"per_seed", seeds_json},
                                        {"seed_sd", std::isfinite(sd) ? nlohmann::json(sd) : nlohmann::json(nullptr)}};
    }
    for (size_t a = 0; a < methods.size(); ++a)
      for (size_t b = a + 1; b < methods.size(); ++b) {
        const Interval p = probability_of_improvement(scores[a], picks[a], scores[b], picks[b], higher_is_better, o.level);
        const int v = verdict_of(p);
        out["pairs"].push_back({{"a", methods[a].name},
                                {"b", methods[b].name},
                                {"window", window},
                                {"p", to_json(p)},
                                {"verdict", v > 0 ? "a" : v < 0 ? "b" : "none"}});
      }
  }
  return out;
}

}  // namespace dfb

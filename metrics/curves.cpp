// Bootstrap intervals and degradation summaries (see curves.h).
#include "metrics/curves.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "base/error.h"
#include "base/rng.h"
#include "metrics/comparison.h"

namespace dfb {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double quantile(const std::vector<double>& sorted, double q) {
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const size_t i = static_cast<size_t>(std::floor(pos));
  const size_t j = std::min(i + 1, sorted.size() - 1);
  return sorted[i] + (pos - static_cast<double>(i)) * (sorted[j] - sorted[i]);
}

// Mean of the finite values of curve[first, last).
double window_mean(const std::vector<double>& curve, int64_t first, int64_t last) {
  double sum = 0;
  int64_t n = 0;
  for (int64_t t = std::max<int64_t>(0, first); t < std::min<int64_t>(last, curve.size()); ++t)
    if (std::isfinite(curve[t])) sum += curve[t], ++n;
  return n > 0 ? sum / static_cast<double>(n) : kNaN;
}

}  // namespace

std::vector<std::vector<int64_t>> bootstrap_picks(int64_t rollouts, const BootstrapOptions& o) {
  if (rollouts < 1) throw Error("bootstrap: needs at least one rollout");
  if (o.resamples < 0) throw Error("bootstrap: resamples must be >= 0");
  std::vector<std::vector<int64_t>> picks(static_cast<size_t>(o.resamples + 1), std::vector<int64_t>(rollouts));
  for (int64_t i = 0; i < rollouts; ++i) picks[0][i] = i;
  uint64_t state = o.seed ^ 0xb0075742ull;
  for (int64_t r = 1; r <= o.resamples; ++r)
    for (int64_t i = 0; i < rollouts; ++i)
      picks[r][i] = static_cast<int64_t>(splitmix64(state) % static_cast<uint64_t>(rollouts));
  return picks;
}

std::vector<std::vector<int64_t>> grouped_picks(const std::vector<std::vector<int64_t>>& picks, int64_t groups,
                                                const BootstrapOptions& o) {
  if (groups < 1) throw Error("bootstrap: needs at least one group");
  if (groups == 1 || picks.empty()) return picks;
  const int64_t n = static_cast<int64_t>(picks[0].size());
  std::vector<std::vector<int64_t>> out(picks.size(), std::vector<int64_t>(static_cast<size_t>(groups * n)));
  for (int64_t i = 0; i < groups * n; ++i) out[0][i] = i;
  uint64_t state = o.seed ^ 0x5eed5eedull;
  for (size_t r = 1; r < picks.size(); ++r)
    for (int64_t g = 0; g < groups; ++g) {
      const int64_t group = static_cast<int64_t>(splitmix64(state) % static_cast<uint64_t>(groups));
      for (int64_t i = 0; i < n; ++i) out[r][g * n + i] = group * n + picks[r][i];
    }
  return out;
}

Interval interval_of(const std::vector<double>& per_resample, double level, IntervalKind kind) {
  Interval v;
  v.mean = per_resample.empty() ? kNaN : per_resample[0];
  std::vector<double> rest;
  for (size_t i = 1; i < per_resample.size(); ++i)
    if (std::isfinite(per_resample[i])) rest.push_back(per_resample[i]);
  if (rest.empty() || !std::isfinite(v.mean)) {
    v.lo = v.hi = per_resample.size() == 1 ? v.mean : kNaN;
    return v;
  }
  std::sort(rest.begin(), rest.end());
  v.lo = quantile(rest, (1 - level) / 2);
  v.hi = quantile(rest, 1 - (1 - level) / 2);
  if (kind == IntervalKind::kDebiased) {
    double mean = 0;
    for (double x : rest) mean += x;
    const double bias = mean / static_cast<double>(rest.size()) - v.mean;
    v.lo -= bias, v.hi -= bias;
  }
  return v;
}

std::vector<std::vector<double>> mean_curves(const std::vector<std::vector<double>>& values,
                                             const std::vector<std::vector<int64_t>>& picks) {
  const size_t length = values.empty() ? 0 : values[0].size();
  std::vector<std::vector<double>> curves(picks.size(), std::vector<double>(length, kNaN));
  for (size_t r = 0; r < picks.size(); ++r)
    for (size_t t = 0; t < length; ++t) {
      double sum = 0;
      int64_t n = 0;
      for (int64_t i : picks[r]) {
        const double x = values[i][t];
        if (std::isfinite(x)) sum += x, ++n;
      }
      if (n > 0) curves[r][t] = sum / static_cast<double>(n);
    }
  return curves;
}

Summary summarize(const std::vector<double>& curve, const Windows& w, double band_lo, double band_hi) {
  Summary s;
  const int64_t length = std::min<int64_t>(w.length, curve.size());
  s.within = window_mean(curve, w.context, w.t_train);
  for (int64_t k = 2; w.t_train > 0 && k * w.t_train <= length; ++k) {
    s.k.push_back(k);
    s.at.push_back(window_mean(curve, (k - 1) * w.t_train, k * w.t_train));
    s.ratio.push_back(s.at.back() / s.within);
  }
  const int64_t generated = length - w.context;
  const int64_t tail = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(0.15 * static_cast<double>(generated))));
  s.delta_drift = generated > 0 ? std::fabs(window_mean(curve, w.context, w.context + tail) -
                                            window_mean(curve, length - tail, length))
                                : kNaN;
  double st = 0, sx = 0, stt = 0, stx = 0;
  int64_t n = 0;
  for (int64_t t = w.context; t < length; ++t)
    if (std::isfinite(curve[t])) {
      const double tt = static_cast<double>(t);
      st += tt, sx += curve[t], stt += tt * tt, stx += tt * curve[t], ++n;
    }
  const double denominator = static_cast<double>(n) * stt - st * st;
  s.slope_per_100 = n >= 2 && denominator > 0 ? 100.0 * (static_cast<double>(n) * stx - st * sx) / denominator : kNaN;
  std::vector<double> chunks = {s.within};
  chunks.insert(chunks.end(), s.at.begin(), s.at.end());
  s.vde = video_drift_error(chunks);
  const std::vector<double> head(curve.begin(), curve.begin() + std::max<int64_t>(0, length));
  s.stable_horizon = persistent_horizon(head, w.context, band_lo, band_hi);
  s.first_exit = kNaN;
  if (band_lo <= band_hi) {
    s.first_exit = static_cast<double>(length);
    for (int64_t t = w.context; t < length; ++t)
      if (std::isfinite(curve[t]) && (curve[t] < band_lo || curve[t] > band_hi)) {
        s.first_exit = static_cast<double>(t);
        break;
      }
  }
  return s;
}

std::pair<double, double> real_band(const std::vector<Interval>& truth_curve, int64_t context) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (size_t t = static_cast<size_t>(std::max<int64_t>(0, context)); t < truth_curve.size(); ++t) {
    const Interval& v = truth_curve[t];
    const double a = std::isfinite(v.lo) ? std::min(v.lo, v.mean) : v.mean;
    const double b = std::isfinite(v.hi) ? std::max(v.hi, v.mean) : v.mean;
    if (std::isfinite(a)) lo = std::min(lo, a);
    if (std::isfinite(b)) hi = std::max(hi, b);
  }
  return {lo, hi};  // lo > hi when the truth has no value: no band
}

MetricCurves summarize_resamples(const std::vector<std::vector<double>>& curves, const Windows& w, double band_lo,
                                 double band_hi, double level, IntervalKind kind) {
  if (curves.empty()) throw Error("summarize_resamples: no curves");
  MetricCurves m;
  const size_t length = curves[0].size(), resamples = curves.size();
  std::vector<double> column(resamples);
  for (size_t t = 0; t < length; ++t) {
    for (size_t r = 0; r < resamples; ++r) column[r] = curves[r][t];
    m.curve.push_back(interval_of(column, level, kind));
  }
  std::vector<Summary> s;
  for (const auto& c : curves) s.push_back(summarize(c, w, band_lo, band_hi));
  auto collect = [&](auto field, IntervalKind k) {
    for (size_t r = 0; r < resamples; ++r) column[r] = field(s[r]);
    return interval_of(column, level, k);
  };
  MetricCurves::Summaries& out = m.summary;
  out.within = collect([](const Summary& x) { return x.within; }, kind);
  out.delta_drift = collect([](const Summary& x) { return x.delta_drift; }, kind);
  out.slope_per_100 = collect([](const Summary& x) { return x.slope_per_100; }, kind);
  out.vde = collect([](const Summary& x) { return x.vde; }, kind);
  // Frame indices: their percentile intervals, whatever the metric.
  out.stable_horizon = collect([](const Summary& x) { return x.stable_horizon; }, IntervalKind::kPercentile);
  out.first_exit = collect([](const Summary& x) { return x.first_exit; }, IntervalKind::kPercentile);
  out.has_horizon = std::isfinite(s[0].stable_horizon);
  out.horizon_censored = out.has_horizon && s[0].stable_horizon >= static_cast<double>(std::min<int64_t>(w.length, length));
  out.k = s[0].k;
  for (size_t i = 0; i < out.k.size(); ++i) {
    out.at.push_back(collect([i](const Summary& x) { return x.at[i]; }, kind));
    out.ratio.push_back(collect([i](const Summary& x) { return x.ratio[i]; }, kind));
  }
  return m;
}

nlohmann::json to_json(const Interval& v) {
  auto number = [](double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr); };
  return {{"mean", number(v.mean)}, {"lo", number(v.lo)}, {"hi", number(v.hi)}};
}

nlohmann::json to_json(const MetricCurves::Summaries& s) {
  nlohmann::json at = nlohmann::json::object(), ratio = nlohmann::json::object();
  for (size_t i = 0; i < s.k.size(); ++i) {
    at[std::to_string(s.k[i])] = to_json(s.at[i]);
    ratio[std::to_string(s.k[i])] = to_json(s.ratio[i]);
  }
  nlohmann::json j = {{"within_t_train", to_json(s.within)}, {"at", at}, {"ratio", ratio},
                      {"delta_drift", to_json(s.delta_drift)}, {"slope_per_100", to_json(s.slope_per_100)},
                      {"vde", to_json(s.vde)}};
  if (s.has_horizon) {
    j["stable_horizon"] = to_json(s.stable_horizon);
    j["stable_horizon"]["never_left"] = s.horizon_censored;
    j["first_exit"] = to_json(s.first_exit);
  } else {
    j["stable_horizon"] = nullptr;
    j["first_exit"] = nullptr;
  }
  return j;
}

Interval interval_from_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) throw Error(where + ": expected an interval {mean, lo, hi}");
  auto number = [&](const char* key) {
    if (!j.contains(key) || j[key].is_null()) return std::numeric_limits<double>::quiet_NaN();
    if (!j[key].is_number()) throw Error(where + "." + key + ": expected a number or null");
    return j[key].get<double>();
  };
  return {number("mean"), number("lo"), number("hi")};
}

MetricCurves::Summaries summaries_from_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) throw Error(where + ": expected the summaries of a method");
  MetricCurves::Summaries s;
  auto interval = [&](const char* key) {
    if (!j.contains(key)) throw Error(where + ": " + key + " is missing");
    return interval_from_json(j[key], where + "." + key);
  };
  s.within = interval("within_t_train");
  s.delta_drift = interval("delta_drift");
  s.slope_per_100 = interval("slope_per_100");
  const Interval none{std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::quiet_NaN(),
                      std::numeric_limits<double>::quiet_NaN()};
  s.vde = j.contains("vde") ? interval_from_json(j["vde"], where + ".vde") : none;  // absent before schema 2
  if (j.contains("at") && j["at"].is_object()) {
    for (const auto& [k, v] : j["at"].items()) {
      int64_t multiple = 0;
      try {
        multiple = std::stoll(k);
      } catch (const std::exception&) {
        throw Error(where + ".at: '" + k + "' is not a multiple of the training length");
      }
      s.k.push_back(multiple);
    }
    std::sort(s.k.begin(), s.k.end());
    for (int64_t k : s.k) {
      const std::string key = std::to_string(k);
      s.at.push_back(interval_from_json(j["at"][key], where + ".at." + key));
      s.ratio.push_back(j.contains("ratio") && j["ratio"].contains(key)
                            ? interval_from_json(j["ratio"][key], where + ".ratio." + key)
                            : Interval{std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::quiet_NaN(),
                                       std::numeric_limits<double>::quiet_NaN()});
    }
  }
  if (j.contains("stable_horizon") && j["stable_horizon"].is_object()) {
    s.has_horizon = true;
    s.stable_horizon = interval_from_json(j["stable_horizon"], where + ".stable_horizon");
    s.horizon_censored = j["stable_horizon"].value("never_left", false);
    s.first_exit = j.contains("first_exit") ? interval_from_json(j["first_exit"], where + ".first_exit") : none;
  }
  return s;
}

}  // namespace dfb

// The fair-opponent gate (see gate.h).
#include "reports/gate.h"

#include <cmath>
#include <cstdlib>
#include <vector>

#include "reports/text.h"

namespace dfb {

ValidationTrend validation_trend(const std::vector<TrainingRun>& runs, double margin, int64_t* peak_step) {
  // step → (sum, count) of oracle_valid over the runs; only steps every run validated at.
  std::map<int64_t, std::pair<double, size_t>> at;
  for (const TrainingRun& r : runs)
    for (const auto& [step, scores] : r.validation) {
      const auto it = scores.find("oracle_valid");
      if (it == scores.end() || !std::isfinite(it->second)) continue;
      at[step].first += it->second;
      ++at[step].second;
    }
  std::vector<std::pair<int64_t, double>> curve;
  for (const auto& [step, sc] : at)
    if (sc.second == runs.size()) curve.emplace_back(step, sc.first / static_cast<double>(sc.second));
  if (runs.empty() || curve.size() < 3) return ValidationTrend::kUnknown;
  const auto& last = curve.back();
  auto peak = curve.front();
  for (const auto& p : curve)
    if (p.second > peak.second) peak = p;
  if (peak_step) *peak_step = peak.first;
  // The least-squares line through the second half (steps >= the last one's half), and how much
  // it rises across that half.
  std::vector<std::pair<int64_t, double>> half;
  for (const auto& p : curve)
    if (2 * p.first >= last.first) half.push_back(p);
  if (half.size() < 2) half.assign(curve.end() - 2, curve.end());
  double sx = 0, sy = 0;
  for (const auto& [x, y] : half) {
    sx += static_cast<double>(x);
    sy += y;
  }
  const double n = static_cast<double>(half.size()), mx = sx / n, my = sy / n;
  double sxy = 0, sxx = 0;
  for (const auto& [x, y] : half) {
    sxy += (static_cast<double>(x) - mx) * (y - my);
    sxx += (static_cast<double>(x) - mx) * (static_cast<double>(x) - mx);
  }
  const double rise = sxx > 0 ? sxy / sxx * static_cast<double>(last.first - half.front().first) : 0.0;
  if (rise > margin) return ValidationTrend::kRising;
  if (last.second < peak.second - margin) return ValidationTrend::kFalling;
  return ValidationTrend::kFlat;
}

namespace {

// "validation still rising" etc.; "" when the trend is unknown.
std::string trend_phrase(const GateResult& g) {
  switch (g.trend) {
    case ValidationTrend::kRising: return "validation still rising";
    case ValidationTrend::kFlat: return "validation flat over the second half of training";
    case ValidationTrend::kFalling: return "validation fell from its peak at step " + std::to_string(g.peak_step);
    case ValidationTrend::kUnknown: break;
  }
  return "";
}

}  // namespace

std::string gate_status(const GateResult& g) {
  if (g.pass) return "passes";
  const std::string trend = trend_phrase(g);
  if (trend.empty()) return "below the gate";
  return (g.trend == ValidationTrend::kRising ? "undertrained: " : "below the gate: ") + trend;
}

std::map<std::string, GateResult> fair_opponent_gate(const ReportData& d, const GateOptions& o) {
  std::map<std::string, GateResult> out;
  const bool oracle = d.summaries.count("oracle_valid") > 0;
  const std::string metric = oracle ? "oracle_valid" : d.summaries.count("fd_self") ? "fd_self" : "";
  if (metric.empty()) return out;
  const auto& by_set = d.summaries.at(metric);
  for (const auto& [label, s] : by_set) {
    if (is_truth_label(label)) continue;
    const auto truth = by_set.find(truth_label_of(label));
    if (truth == by_set.end()) continue;
    GateResult g;
    g.metric = metric;
    g.value = s.within.mean;
    g.truth = truth->second.within.mean;
    g.threshold = oracle ? o.oracle_share * g.truth : o.fd_factor * g.truth;
    g.pass = std::isfinite(g.value) && std::isfinite(g.threshold) && (oracle ? g.value >= g.threshold : g.value <= g.threshold);
    const auto trained = d.training.find(label);
    if (trained != d.training.end()) g.trend = validation_trend(trained->second, o.trend_margin, &g.peak_step);
    out[label] = g;
  }
  return out;
}

std::set<std::string> below_gate(const std::map<std::string, GateResult>& gate) {
  std::set<std::string> out;
  for (const auto& [label, g] : gate)
    if (!g.pass) out.insert(label);
  return out;
}

std::string gate_sentence(const std::map<std::string, GateResult>& gate, const GateOptions& o) {
  std::string s;
  for (const auto& [label, g] : gate) {
    if (g.pass) continue;
    const bool oracle = g.metric == "oracle_valid";
    s += (s.empty() ? "" : "; ") + label + " (" + g.metric + " within T_train " + format_number(g.value) +
         (oracle ? " < " : " > ") + format_number(g.threshold) + " = " +
         format_number(oracle ? o.oracle_share : o.fd_factor) + " × the truth's " + format_number(g.truth) +
         (g.trend == ValidationTrend::kUnknown ? "" : "; " + trend_phrase(g)) + ")";
  }
  return s.empty() ? "" : "Not ranked, below the fair-opponent gate: " + s + ".";
}

}  // namespace dfb

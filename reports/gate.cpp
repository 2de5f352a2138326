// The fair-opponent gate (see gate.h).
#include "reports/gate.h"

#include <cmath>

#include "reports/text.h"

namespace dfb {

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
    out[label] = g;
  }
  return out;
}

std::set<std::string> undertrained(const std::map<std::string, GateResult>& gate) {
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
         format_number(oracle ? o.oracle_share : o.fd_factor) + " × the truth's " + format_number(g.truth) + ")";
  }
  return s.empty() ? "" : "Not ranked, below the fair-opponent gate (undertrained): " + s + ".";
}

}  // namespace dfb

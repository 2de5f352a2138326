// The fair-opponent gate (docs/metrics.md): before methods are ranked, each one's quality
// within the training length is checked against the truth's. A method below the gate is
// reported as undertrained, with its figure, and the verdict does not rank it. Torch-free.
#pragma once
#include <map>
#include <set>
#include <string>

#include "reports/report_data.h"

namespace dfb {

struct GateOptions {
  double oracle_share = 0.8;  // oracle_valid within T_train >= oracle_share × the truth's
  double fd_factor = 2.0;     // else fd_self within T_train <= fd_factor × the truth's
};

struct GateResult {
  std::string metric;            // "oracle_valid" or "fd_self"
  double value = 0, truth = 0;   // within T_train, the method's and its truth's
  double threshold = 0;          // oracle_share × truth, or fd_factor × truth
  bool pass = false;
};

// Per method label (not the truths) its gate; empty when neither metric was evaluated. In a
// report of several runs each method is judged against its own run's truth.
std::map<std::string, GateResult> fair_opponent_gate(const ReportData& data, const GateOptions& options = {});

// The labels of the methods that failed.
std::set<std::string> undertrained(const std::map<std::string, GateResult>& gate);

// "Not ranked, below the fair-opponent gate: a (oracle_valid within T_train 0.41 < 0.74 = 0.8 × the
// truth's 0.93); ...", or "" when every method passed.
std::string gate_sentence(const std::map<std::string, GateResult>& gate, const GateOptions& options = {});

}  // namespace dfb

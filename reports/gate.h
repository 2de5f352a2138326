// The fair-opponent gate (docs/metrics.md): before methods are ranked, each one's quality
// within the training length is checked against the truth's. A method below the gate is
// reported with its figure, and the verdict does not rank it; its validation curve says whether
// it was still improving (undertrained) or had stopped (more of the same training would not
// obviously lift it). Torch-free.
#pragma once
#include <map>
#include <set>
#include <string>

#include "reports/report_data.h"

namespace dfb {

struct GateOptions {
  double oracle_share = 0.8;  // oracle_valid within T_train >= oracle_share × the truth's
  double fd_factor = 2.0;     // else fd_self within T_train <= fd_factor × the truth's
  // A change of the validation mean larger than this is a trend (rising: across the second half of
  // training; falling: from the peak); smaller, flat. About the noise of a 16-clip validation mean over 3 seeds.
  double trend_margin = 0.05;
};

// How a method's validation oracle_valid (the trainer's, mean over seeds) moved over the second
// half of its training (docs/metrics.md, "Fair-opponent gate"): still rising, flat, or fallen
// from its peak; unknown where the run logged no such validation.
enum class ValidationTrend { kUnknown, kRising, kFlat, kFalling };

struct GateResult {
  std::string metric;            // "oracle_valid" or "fd_self"
  double value = 0, truth = 0;   // within T_train, the method's and its truth's
  double threshold = 0;          // oracle_share × truth, or fd_factor × truth
  bool pass = false;
  ValidationTrend trend = ValidationTrend::kUnknown;
  int64_t peak_step = 0;         // the validation step with the highest mean
};

// Per method label (not the truths) its gate; empty when neither metric was evaluated. In a
// report of several runs each method is judged against its own run's truth.
std::map<std::string, GateResult> fair_opponent_gate(const ReportData& data, const GateOptions& options = {});

// The trend of one method's validation oracle_valid over its training runs (seeds): the mean over
// the runs at each validation step they share; rising when the least-squares line through the
// second half of them rises by more than `margin` across it, else falling when the last value is
// more than `margin` below the peak, else flat. kUnknown with fewer than 3 shared points.
ValidationTrend validation_trend(const std::vector<TrainingRun>& runs, double margin, int64_t* peak_step = nullptr);

// "passes", "undertrained: validation still rising", "below the gate: validation flat over the second
// half of training" or "below the gate: validation fell from its peak at step 600"; "below the gate"
// alone when the trend is unknown.
std::string gate_status(const GateResult& g);

// The labels of the methods that failed.
std::set<std::string> below_gate(const std::map<std::string, GateResult>& gate);

// "Not ranked, below the fair-opponent gate: a (oracle_valid within T_train 0.41 < 0.74 = 0.8 × the
// truth's 0.93); ...", or "" when every method passed.
std::string gate_sentence(const std::map<std::string, GateResult>& gate, const GateOptions& options = {});

}  // namespace dfb

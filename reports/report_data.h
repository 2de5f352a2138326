// What a report is made of, read back from evaluated runs (dfbench evaluate's
// metrics.json and curves.csv, and the rollout files they name). Several runs combine
// into one report: their methods are labelled "<run>/<method>". Torch-free.
#pragma once
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "metrics/curves.h"

namespace dfb {

struct CurvePoint {
  int64_t t = 0;
  double mean = 0, lo = 0, hi = 0;
};

// metrics.json "comparisons.<metric>", read typed (docs/metrics.md "Comparing methods").
struct PairComparison {
  std::string a, b, window;  // set labels; window "within" or a multiple "2", "4", ...
  Interval p;                // P(a better than b) with its stratified bootstrap interval
  int verdict = 0;           // +1 a, −1 b, 0 no detectable difference
};
struct WindowStats {
  Interval mean, iqm;
  std::vector<double> per_seed;  // each seed's mean (NaN where undefined)
  double seed_sd = 0;            // their standard deviation (NaN with one seed)
};
struct MetricComparison {
  bool higher_is_better = true;
  std::vector<PairComparison> pairs;
  std::map<std::string, std::map<std::string, WindowStats>> stats;  // set label → window → stats
};

// metrics.json "training.<method>.runs[i]": one training run (seed), read typed.
struct TrainingRun {
  int64_t steps = 0, batch = 0, frames = 0, parameters = 0;
  double flops = 0;                 // NaN where the log has no count
  double train_seconds = 0;
  double final_loss = 0;            // NaN where the log has none
  std::vector<std::pair<int64_t, double>> loss;  // (step, mean loss of the interval)
  std::vector<std::pair<int64_t, std::map<std::string, double>>> validation;  // (step, scores)
};

struct ReportRun {
  std::string dir, name;            // the run folder and its name (its basename)
  nlohmann::json metrics;           // metrics.json
  std::vector<std::string> samples; // rollout files, as metrics.json names them
  nlohmann::json config;            // the first method's config.json (null when absent)
};

struct ReportData {
  std::vector<ReportRun> runs;
  int64_t context = 0, t_train = 0, length = 0;
  std::vector<std::string> sets;                // method labels, then "truth" (one per run when several)
  std::vector<std::string> metrics;             // metric names present, catalogue order
  // (set label, metric) → the curve over t
  std::map<std::pair<std::string, std::string>, std::vector<CurvePoint>> curves;
  // metric → set label → that set's summaries (metrics.json's methods.<m>, read typed)
  std::map<std::string, std::map<std::string, MetricCurves::Summaries>> summaries;
  std::map<std::string, nlohmann::json> metric_info;  // metric → version, better, unit, what
  // metric → its pairwise comparisons (within each run; absent in metrics.json before schema 2)
  std::map<std::string, MetricComparison> comparisons;
  // set label → its training runs (seeds); absent for rollouts dfbench did not train
  std::map<std::string, std::vector<TrainingRun>> training;
};

// Reads RUN/metrics.json and RUN/curves.csv of each run; throws dfb::Error naming the file
// (missing: "run `dfbench evaluate` or `dfbench reproduce` first").
ReportData read_report_data(const std::vector<std::string>& run_dirs);

// The label of `set` of run `run` in a report of `runs` runs.
std::string set_label(const ReportRun& run, const std::string& set, size_t runs);
// The truth of the run a label belongs to: "truth", or "<run>/truth" for "<run>/<method>".
std::string truth_label_of(const std::string& label);
// Whether a label is a run's truth ("truth" or "<run>/truth").
bool is_truth_label(const std::string& label);

}  // namespace dfb

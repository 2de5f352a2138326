#include "reports/training_section.h"

#include <cmath>
#include <cstdio>

#include "reports/text.h"

namespace dfb {

namespace {

double mean_of(const std::vector<TrainingRun>& runs, double (*get)(const TrainingRun&)) {
  double s = 0;
  for (const TrainingRun& r : runs) s += get(r);
  return runs.empty() ? NAN : s / static_cast<double>(runs.size());
}

// The mean over the runs of their last validation score `name` (NaN when none has it).
double last_validation(const std::vector<TrainingRun>& runs, const std::string& name) {
  double s = 0;
  int n = 0;
  for (const TrainingRun& r : runs)
    if (!r.validation.empty()) {
      auto it = r.validation.back().second.find(name);
      if (it != r.validation.back().second.end() && std::isfinite(it->second)) s += it->second, ++n;
    }
  return n ? s / n : NAN;
}

std::string count_text(double x) {
  char b[32];
  if (!std::isfinite(x)) return "–";
  if (x >= 1e6) std::snprintf(b, sizeof b, "%.2fM", x / 1e6);
  else if (x >= 1e4) std::snprintf(b, sizeof b, "%.0fk", x / 1e3);
  else std::snprintf(b, sizeof b, "%.0f", x);
  return b;
}

}  // namespace

std::string format_flops(double flops) {
  if (!std::isfinite(flops)) return "–";
  const char* units[] = {"FLOP", "kFLOP", "MFLOP", "GFLOP", "TFLOP", "PFLOP", "EFLOP"};
  int u = 0;
  while (flops >= 1000 && u < 6) flops /= 1000, ++u;
  char b[32];
  std::snprintf(b, sizeof b, flops >= 100 ? "%.0f %s" : flops >= 10 ? "%.1f %s" : "%.2f %s", flops, units[u]);
  return b;
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "–";
  const long s = std::lround(seconds);
  char b[32];
  if (s >= 3600) std::snprintf(b, sizeof b, "%ldh%02ldm", s / 3600, (s % 3600) / 60);
  else if (s >= 60) std::snprintf(b, sizeof b, "%ldm%02lds", s / 60, s % 60);
  else std::snprintf(b, sizeof b, "%lds", s);
  return b;
}

SummaryTable training_table(const ReportData& d) {
  SummaryTable t;
  t.metric = "training";
  t.caption = "Training compute per method (the mean over its seeds) and where it ended";
  bool oracle = false;
  for (const auto& [label, runs] : d.training) oracle = oracle || std::isfinite(last_validation(runs, "oracle_valid"));
  t.columns = {"seeds", "steps", "clips/step", "frames/clip", "params", "frames seen", "FLOPs", "wall time",
               "final loss", "val. loss"};
  if (oracle) t.columns.push_back("val. valid");
  for (const std::string& label : d.sets) {
    auto it = d.training.find(label);
    if (it == d.training.end() || it->second.empty()) continue;
    const std::vector<TrainingRun>& runs = it->second;
    const TrainingRun& first = runs.front();
    t.rows.push_back(label);
    std::vector<TableCell> row;
    auto add = [&row](const std::string& text) { row.push_back({text, false}); };
    add(std::to_string(runs.size()));
    add(count_text(mean_of(runs, [](const TrainingRun& r) { return static_cast<double>(r.steps); })));
    add(std::to_string(first.batch));
    add(std::to_string(first.frames));
    add(count_text(static_cast<double>(first.parameters)));
    add(count_text(mean_of(runs, [](const TrainingRun& r) { return static_cast<double>(r.steps * r.batch * r.frames); })));
    add(format_flops(mean_of(runs, [](const TrainingRun& r) { return r.flops; })));
    add(format_duration(mean_of(runs, [](const TrainingRun& r) { return r.train_seconds; })));
    add(format_number(mean_of(runs, [](const TrainingRun& r) { return r.final_loss; })));
    add(format_number(last_validation(runs, "loss")));
    if (oracle) add(format_number(last_validation(runs, "oracle_valid")));
    t.cells.push_back(row);
  }
  return t;
}

}  // namespace dfb

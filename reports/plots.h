// The report's charts, drawn by gnuplot (Debian's gnuplot-nox) as SVG: quality curves over the
// frame index (one line per method with its 95% band, the truth dashed, a vertical line at
// T_train), per-window summaries, one method against the truth, and the training curves.
#pragma once
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "reports/report_data.h"

namespace dfb {

// The SVG text (no XML prologue, ready to inline in HTML). `work_dir` holds the data and
// script files gnuplot reads. Throws dfb::Error when gnuplot is missing or fails.
std::string plot_metric(const ReportData& data, const std::string& metric, const std::string& work_dir);

// One metric's summaries per window (within T_train, then each multiple), a point with its 95%
// interval per method and the truth, side by side: the readable view of who holds up where.
std::string plot_windows(const ReportData& data, const std::string& metric, const std::string& work_dir);

// Small multiples: a panel per method with its curve (a 5-frame moving average of the mean and the
// band) beside its run's truth, on one y range.
std::string plot_against_truth(const ReportData& data, const std::string& metric, const std::string& work_dir);

// Small multiples of the training runs, a panel per method: each seed's logged loss (log
// scale) and validation loss, and its validation oracle_valid on the right axis with the
// method's fair-opponent threshold dotted (`gate`: label → threshold; absent = none).
std::string plot_training(const ReportData& data, const std::map<std::string, double>& gate, const std::string& work_dir);

// Colour recall after a gap of G frames (metrics.json "memory", docs/metrics.md "Memory"): a point
// with its 95% interval per method at each gap length, the chance level dashed in black.
std::string plot_memory(const nlohmann::json& memory, const std::string& work_dir);

}  // namespace dfb

// Quality curves over the frame index, drawn by gnuplot (Debian's gnuplot-nox) as SVG:
// one line per method with its 95% band, the truth dashed, a vertical line at T_train.
#pragma once
#include <string>
#include <vector>

#include "reports/report_data.h"

namespace dfb {

// The SVG text (no XML prologue, ready to inline in HTML). `work_dir` holds the data and
// script files gnuplot reads. Throws dfb::Error when gnuplot is missing or fails.
std::string plot_metric(const ReportData& data, const std::string& metric, const std::string& work_dir);

}  // namespace dfb

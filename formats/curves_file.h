// curves.csv (docs/formats.md): one row per method (or "truth"), metric and frame index t,
// with the mean and the 95% interval: the one writer (dfbench evaluate, report) and the one
// reader (report). Fields with a comma, quote or newline are quoted ("" for a quote);
// numbers are printed with 6 significant digits. Torch-free.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace dfb {

struct CurveRow {
  std::string method, metric;
  int64_t t = 0;
  double mean = 0, lo = 0, hi = 0;
};

constexpr const char* kCurvesHeader = "method,metric,t,mean,lo,hi";

// The file's text: the header, then one line per row.
std::string curves_csv_text(const std::vector<CurveRow>& rows);
// Every row of a curves.csv; throws dfb::Error naming the file and line (wrong header,
// wrong field count, not a number).
std::vector<CurveRow> read_curves_csv(const std::string& path);

}  // namespace dfb

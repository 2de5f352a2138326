// The summary tables of a report: per key metric, a row per method (the truth last) and the
// columns within T_train, at 2×/4×/8×, ΔDrift and stable horizon, the best per column marked;
// rendered as HTML, Markdown and LaTeX (booktabs). And the headline sentence, from the numbers.
#pragma once
#include <set>
#include <string>
#include <vector>

#include "reports/report_data.h"

namespace dfb {

struct TableCell {
  std::string text;    // "0.67 [0.55, 0.79]"
  bool best = false;
};
struct SummaryTable {
  std::string metric, better;
  std::string caption;                          // LaTeX caption; "" = the metric's, with intervals and bold explained
  std::vector<std::string> columns;             // "within T_train", "2×", ..., "ΔDrift", "stable horizon"
  std::vector<std::string> rows;                // set labels
  std::vector<std::vector<TableCell>> cells;    // [row][column]
};

// The metrics a report shows first, in order, among those present.
std::vector<std::string> key_metrics(const ReportData& data);
SummaryTable summary_table(const ReportData& data, const std::string& metric);

std::string table_html(const SummaryTable& t);
std::string table_markdown(const SummaryTable& t);
std::string table_latex(const SummaryTable& t);

// One sentence: who holds up best at the largest multiple of T_train by the primary metric,
// where Diffusion Forcing ranks, and whether the top two intervals overlap.
// Methods in `exclude` (below the fair-opponent gate) are not ranked.
std::string headline(const ReportData& data, const std::set<std::string>& exclude = {});

}  // namespace dfb

// The verdict of a report: P(row method better than column method) at one window, for every
// pair, with the stratified bootstrap intervals of metrics.json "comparisons"; rendered as
// HTML, Markdown and LaTeX, and the sentence those intervals support (a winner is named only
// where an interval excludes ½). Torch-free.
#pragma once
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "reports/report_data.h"

namespace dfb {

struct PairwiseTable {
  std::string metric, window;  // window: "within" or a multiple ("8")
  bool higher_is_better = true;
  std::vector<std::string> methods;                     // rows and columns
  std::vector<std::vector<std::optional<Interval>>> p;  // [row][column]: P(row better than column)
};

// The metric the verdict is read from: the first of oracle_valid, ssim, psnr, mse that has
// comparisons with at least two methods; "" when none has.
std::string verdict_metric(const ReportData& data);
// The largest window of that metric's comparisons ("8" before "4" before "within").
std::string largest_window(const ReportData& data, const std::string& metric);

// nullopt when the metric or window has no comparisons among the methods not in `exclude`
// (those below the fair-opponent gate, reports/gate.h).
std::optional<PairwiseTable> pairwise_table(const ReportData& data, const std::string& metric, const std::string& window,
                                            const std::set<std::string>& exclude = {});

std::string pairwise_html(const PairwiseTable& t);
std::string pairwise_markdown(const PairwiseTable& t);
std::string pairwise_latex(const PairwiseTable& t);

// "At 8× the training length, by oracle_valid (higher is better): A is better than every other method
// (...)" or, where no method is, each detectable difference and "no detectable difference" for the rest.
std::string verdict_sentence(const PairwiseTable& t);

}  // namespace dfb

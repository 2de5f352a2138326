// Summary tables and the headline (see summary_table.h).
#include "reports/summary_table.h"

#include "reports/text.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace dfb {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
const int64_t kMultiples[] = {2, 4, 8};

std::string fmt(double x) { return format_number(x); }
std::string interval(const Interval& v) { return format_interval(v); }

// The summary at k × the training length (nullptr when the rollouts are shorter).
const Interval* at_multiple(const MetricCurves::Summaries& s, int64_t k) {
  for (size_t i = 0; i < s.k.size(); ++i)
    if (s.k[i] == k) return &s.at[i];
  return nullptr;
}

// The value of column c of a summary (what the best is judged on).
double column_value(const MetricCurves::Summaries& s, const std::string& column) {
  if (column == "within T_train") return s.within.mean;
  if (column == "ΔDrift") return s.delta_drift.mean;
  if (column == "stable horizon") return s.has_horizon ? s.stable_horizon.mean : kNaN;
  const Interval* v = at_multiple(s, std::stoll(column.substr(0, column.size() - 2)));  // "8×" → 8
  return v ? v->mean : kNaN;
}

}  // namespace

std::vector<std::string> key_metrics(const ReportData& d) {
  std::vector<std::string> out;
  for (const char* m : {"oracle_valid", "fd_self", "fd_self_w", "fd_random", "fd_random_w", "ssim", "psnr",
                        "oracle_jump", "oracle_speed_error", "flicker", "sharpness"})
    if (std::find(d.metrics.begin(), d.metrics.end(), m) != d.metrics.end()) out.push_back(m);
  return out;
}

SummaryTable summary_table(const ReportData& d, const std::string& metric) {
  SummaryTable t;
  t.metric = metric;
  t.better = d.metric_info.at(metric).value("better", "");
  t.columns.push_back("within T_train");
  for (int64_t k : kMultiples)
    if (k * d.t_train <= d.length) t.columns.push_back(std::to_string(k) + "×");
  t.columns.push_back("ΔDrift");
  t.columns.push_back("stable horizon");
  const auto& sums = d.summaries.at(metric);
  for (const std::string& set : d.sets)
    if (sums.count(set)) t.rows.push_back(set);
  // The truth's value per column (for "closer to real").
  std::vector<double> truth(t.columns.size(), kNaN);
  for (const std::string& set : t.rows)
    if (is_truth_label(set))
      for (size_t c = 0; c < t.columns.size(); ++c) truth[c] = column_value(sums.at(set), t.columns[c]);
  for (const std::string& set : t.rows) {
    const MetricCurves::Summaries& s = sums.at(set);
    std::vector<TableCell> row;
    for (const std::string& col : t.columns) {
      if (col == "within T_train") {
        row.push_back({interval(s.within)});
      } else if (col == "ΔDrift") {
        row.push_back({interval(s.delta_drift)});
      } else if (col == "stable horizon") {
        row.push_back({!s.has_horizon                      ? "–"
                       : s.horizon_censored                ? "never left"
                       : !std::isfinite(s.stable_horizon.mean) ? "–"
                                                           : std::to_string(static_cast<long long>(s.stable_horizon.mean))});
      } else {
        const Interval* v = at_multiple(s, std::stoll(col.substr(0, col.size() - 2)));
        row.push_back({v ? interval(*v) : "–"});
      }
    }
    t.cells.push_back(row);
  }
  // Best per column among the methods (the truth is the reference, not a contender).
  for (size_t c = 0; c < t.columns.size(); ++c) {
    const std::string& col = t.columns[c];
    const bool higher = col == "stable horizon" || (col != "ΔDrift" && t.better == "higher");
    const bool closer = col != "ΔDrift" && col != "stable horizon" && t.better == "closer to real";
    double best = kNaN;
    std::vector<double> score(t.rows.size(), kNaN);
    for (size_t r = 0; r < t.rows.size(); ++r) {
      if (is_truth_label(t.rows[r])) continue;
      double v = column_value(sums.at(t.rows[r]), col);
      if (closer) v = std::isfinite(truth[c]) ? -std::fabs(v - truth[c]) : kNaN;
      else if (!higher) v = -v;
      score[r] = v;
      if (std::isfinite(v) && (!std::isfinite(best) || v > best)) best = v;
    }
    for (size_t r = 0; r < t.rows.size(); ++r)
      t.cells[r][c].best = std::isfinite(best) && score[r] == best;
  }
  return t;
}

std::string table_html(const SummaryTable& t) {
  std::string h = "<table><thead><tr><th>method</th>";
  for (const std::string& c : t.columns) h += "<th>" + escape_html(c) + "</th>";
  h += "</tr></thead><tbody>";
  for (size_t r = 0; r < t.rows.size(); ++r) {
    h += std::string("<tr") + (is_truth_label(t.rows[r]) ? " class=\"truth\"" : "") + "><td>" + escape_html(t.rows[r]) + "</td>";
    for (const TableCell& c : t.cells[r])
      h += std::string("<td") + (c.best ? " class=\"best\"" : "") + ">" + escape_html(c.text) + "</td>";
    h += "</tr>";
  }
  return h + "</tbody></table>";
}

std::string table_markdown(const SummaryTable& t) {
  std::string m = "| method |";
  for (const std::string& c : t.columns) m += " " + escape_markdown(c) + " |";
  m += "\n| --- |";
  for (size_t c = 0; c < t.columns.size(); ++c) m += " --- |";
  m += "\n";
  for (size_t r = 0; r < t.rows.size(); ++r) {
    m += "| " + markdown_code(t.rows[r]) + " |";
    for (const TableCell& c : t.cells[r]) m += " " + (c.best ? "**" + c.text + "**" : c.text) + " |";  // numbers
    m += "\n";
  }
  return m;
}

std::string table_latex(const SummaryTable& t) {
  const std::string caption = !t.caption.empty() ? escape_latex(t.caption)
                                                : escape_latex(t.metric) + " (" + t.better +
                                                      " is better); 95\\% bootstrap intervals over rollouts; best per column in bold";
  std::string l = "\\begin{table}[t]\n\\centering\n\\caption{" + caption + ".}\n"
                  "\\begin{tabular}{l" + std::string(t.columns.size(), 'c') + "}\n\\toprule\nmethod";
  for (std::string c : t.columns) {
    if (c == "within T_train") c = "within $T_\\mathrm{train}$";
    else if (c == "ΔDrift") c = "$\\Delta$Drift";
    else if (c.size() > 2 && c.compare(c.size() - 2, 2, "×") == 0) c = "$" + c.substr(0, c.size() - 2) + "\\times$";
    l += " & " + c;
  }
  l += " \\\\\n\\midrule\n";
  for (size_t r = 0; r < t.rows.size(); ++r) {
    if (is_truth_label(t.rows[r])) l += "\\midrule\n";
    l += escape_latex(t.rows[r]);
    for (const TableCell& c : t.cells[r]) {
      std::string x = c.text == "–" ? "--" : c.text;
      l += " & " + (c.best ? "\\textbf{" + x + "}" : x);
    }
    l += " \\\\\n";
  }
  return l + "\\bottomrule\n\\end{tabular}\n\\end{table}\n";
}

std::string headline(const ReportData& d, const std::set<std::string>& exclude) {
  std::string metric;
  for (const char* m : {"oracle_valid", "fd_self", "fd_random", "ssim"})
    if (d.summaries.count(m)) {
      metric = m;
      break;
    }
  if (metric.empty()) return "No metric to rank the methods by.";
  int64_t k = 0;
  for (int64_t m : kMultiples)
    if (m * d.t_train <= d.length) k = m;
  const std::string better = d.metric_info.at(metric).value("better", "higher");
  struct Entry {
    std::string set;
    double value, lo, hi;
  };
  std::vector<Entry> e;
  for (const auto& [set, s] : d.summaries.at(metric)) {
    if (is_truth_label(set) || exclude.count(set)) continue;
    const Interval* v = k > 0 ? at_multiple(s, k) : &s.within;
    if (v && std::isfinite(v->mean)) e.push_back({set, v->mean, v->lo, v->hi});
  }
  if (e.empty())
    return exclude.empty() ? "No method has a value of " + metric + " to rank."
                           : "No method passes the fair-opponent gate, so none is ranked.";
  std::sort(e.begin(), e.end(), [&](const Entry& a, const Entry& b) { return better == "lower" ? a.value < b.value : a.value > b.value; });
  const std::string where = k > 0 ? "at " + std::to_string(k) + "× the training length" : "within the training length";
  auto value = [](const Entry& x) { return fmt(x.value) + " [" + fmt(x.lo) + ", " + fmt(x.hi) + "]"; };
  if (e.size() == 1 && !exclude.empty())  // one method left: nothing to rank it against
    return "Only " + e[0].set + " passes the fair-opponent gate, so no method is ranked against it; its " + metric +
           " " + where + " is " + value(e[0]) + ".";
  std::string s = "By " + metric + " (" + better + " is better) " + where + ", " + e[0].set + " holds up best (" +
                  value(e[0]) + ")";
  for (size_t i = 1; i < e.size(); ++i)
    if (e[i].set.find("diffusion_forcing") != std::string::npos && e[0].set.find("diffusion_forcing") == std::string::npos)
      s += "; " + e[i].set + " ranks " + std::to_string(i + 1) + " of " + std::to_string(e.size()) + " (" + value(e[i]) + ")";
  if (e.size() > 1) {
    const bool overlap = e[0].lo <= e[1].hi && e[1].lo <= e[0].hi;
    s += overlap ? "; its interval overlaps the runner-up's (" + e[1].set + "), so the lead is not certain"
                 : "; its interval is clear of the runner-up's (" + e[1].set + ")";
  }
  return s + ".";
}

}  // namespace dfb

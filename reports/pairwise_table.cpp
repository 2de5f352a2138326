// The pairwise verdict table and its sentence (see pairwise_table.h).
#include "reports/pairwise_table.h"

#include <algorithm>

#include "metrics/comparison.h"
#include "reports/text.h"

namespace dfb {

namespace {

std::string window_words(const std::string& w) {
  return w == "within" ? "within the training length" : "at " + w + "× the training length";
}

std::string window_label(const std::string& w) { return w == "within" ? "within T_train" : w + "×"; }

}  // namespace

std::string verdict_metric(const ReportData& d) {
  for (const char* m : {"oracle_valid", "ssim", "psnr", "mse"}) {
    const auto it = d.comparisons.find(m);
    if (it != d.comparisons.end() && it->second.stats.size() >= 2) return m;
  }
  return "";
}

std::string largest_window(const ReportData& d, const std::string& metric) {
  const auto it = d.comparisons.find(metric);
  if (it == d.comparisons.end()) return "";
  int64_t best = 0;
  bool within = false;
  for (const PairComparison& c : it->second.pairs) {
    if (c.window == "within") {
      within = true;
      continue;
    }
    try {
      best = std::max<int64_t>(best, std::stoll(c.window));
    } catch (const std::exception&) {
    }
  }
  return best > 0 ? std::to_string(best) : within ? "within" : "";
}

std::optional<PairwiseTable> pairwise_table(const ReportData& d, const std::string& metric, const std::string& window,
                                            const std::set<std::string>& exclude) {
  const auto it = d.comparisons.find(metric);
  if (it == d.comparisons.end()) return std::nullopt;
  PairwiseTable t;
  t.metric = metric, t.window = window, t.higher_is_better = it->second.higher_is_better;
  for (const std::string& set : d.sets)  // report order
    if (it->second.stats.count(set) && !exclude.count(set)) t.methods.push_back(set);
  const size_t n = t.methods.size();
  t.p.assign(n, std::vector<std::optional<Interval>>(n));
  auto index = [&](const std::string& s) {
    return static_cast<size_t>(std::find(t.methods.begin(), t.methods.end(), s) - t.methods.begin());
  };
  bool any = false;
  for (const PairComparison& c : it->second.pairs) {
    if (c.window != window) continue;
    const size_t a = index(c.a), b = index(c.b);
    if (a >= n || b >= n) continue;
    t.p[a][b] = c.p;
    t.p[b][a] = Interval{1 - c.p.mean, 1 - c.p.hi, 1 - c.p.lo};  // P(b better than a)
    any = true;
  }
  if (!any) return std::nullopt;
  return t;
}

std::string pairwise_html(const PairwiseTable& t) {
  std::string h = "<table class=\"pairwise\"><caption>P(row better than column) by " + escape_html(t.metric) + ", " +
                  escape_html(window_words(t.window)) +
                  "; 95% stratified bootstrap intervals (seeds kept, clips resampled). Bold: the interval excludes ½."
                  "</caption>\n<tr><th></th>";
  for (const std::string& m : t.methods) h += "<th>" + escape_html(m) + "</th>";
  h += "</tr>\n";
  for (size_t r = 0; r < t.methods.size(); ++r) {
    h += "<tr><th>" + escape_html(t.methods[r]) + "</th>";
    for (size_t c = 0; c < t.methods.size(); ++c) {
      if (!t.p[r][c]) {
        h += "<td>–</td>";
        continue;
      }
      const Interval& p = *t.p[r][c];
      const int v = verdict_of(p);
      const bool sure = v != 0;
      h += std::string("<td") + (v > 0 ? " class=\"win\"" : v < 0 ? " class=\"loss\"" : "") + ">" +
           (sure ? "<b>" + escape_html(format_interval(p)) + "</b>" : escape_html(format_interval(p))) + "</td>";
    }
    h += "</tr>\n";
  }
  return h + "</table>\n";
}

std::string pairwise_markdown(const PairwiseTable& t) {
  std::string m = "P(row better than column) by " + escape_markdown(t.metric) + ", " + escape_markdown(window_words(t.window)) +
                  "; 95% stratified bootstrap intervals; bold where the interval excludes ½.\n\n| |";
  for (const std::string& c : t.methods) m += " " + markdown_code(c) + " |";
  m += "\n| --- |";
  for (size_t c = 0; c < t.methods.size(); ++c) m += " --- |";
  m += "\n";
  for (size_t r = 0; r < t.methods.size(); ++r) {
    m += "| " + markdown_code(t.methods[r]) + " |";
    for (size_t c = 0; c < t.methods.size(); ++c) {
      if (!t.p[r][c]) {
        m += " – |";
        continue;
      }
      const Interval& p = *t.p[r][c];
      const bool sure = verdict_of(p) != 0;
      m += " " + (sure ? "**" + format_interval(p) + "**" : format_interval(p)) + " |";
    }
    m += "\n";
  }
  return m;
}

std::string pairwise_latex(const PairwiseTable& t) {
  std::string l = "\\begin{table}[t]\n\\centering\n\\caption{$P(\\text{row better than column})$ by " +
                  escape_latex(t.metric) + ", " + escape_latex(window_label(t.window)) +
                  "; 95\\% stratified bootstrap intervals; bold where the interval excludes $\\frac12$.}\n"
                  "\\begin{tabular}{l" + std::string(t.methods.size(), 'c') + "}\n\\toprule\n";
  for (const std::string& c : t.methods) l += " & " + escape_latex(c);
  l += " \\\\\n\\midrule\n";
  for (size_t r = 0; r < t.methods.size(); ++r) {
    l += escape_latex(t.methods[r]);
    for (size_t c = 0; c < t.methods.size(); ++c) {
      if (!t.p[r][c]) {
        l += " & --";
        continue;
      }
      const Interval& p = *t.p[r][c];
      const bool sure = verdict_of(p) != 0;
      l += " & " + (sure ? "\\textbf{" + format_interval(p) + "}" : format_interval(p));
    }
    l += " \\\\\n";
  }
  return l + "\\bottomrule\n\\end{tabular}\n\\end{table}\n";
}

std::string verdict_sentence(const PairwiseTable& t) {
  const size_t n = t.methods.size();
  auto better = [&](size_t a, size_t b) { return t.p[a][b] && verdict_of(*t.p[a][b]) > 0; };
  std::string s = "By " + t.metric + " (" + (t.higher_is_better ? "higher" : "lower") + " is better), " +
                  window_words(t.window) + ": ";
  // A method better than every other, each interval of P above ½.
  for (size_t a = 0; a < n; ++a) {
    bool all = n > 1;
    size_t weakest = a;
    for (size_t b = 0; b < n; ++b) {
      if (b == a) continue;
      if (!better(a, b)) all = false;
      else if (weakest == a || t.p[a][b]->mean < t.p[a][weakest]->mean) weakest = b;
    }
    if (all)
      return s + t.methods[a] + " is better than every other method (the closest, " + t.methods[weakest] + ": P = " +
             format_interval(*t.p[a][weakest]) + ").";
  }
  std::vector<std::string> found, none;
  for (size_t a = 0; a < n; ++a)
    for (size_t b = a + 1; b < n; ++b) {
      if (!t.p[a][b]) continue;
      if (better(a, b)) found.push_back(t.methods[a] + " > " + t.methods[b] + " (P = " + format_interval(*t.p[a][b]) + ")");
      else if (better(b, a)) found.push_back(t.methods[b] + " > " + t.methods[a] + " (P = " + format_interval(*t.p[b][a]) + ")");
      else none.push_back(t.methods[a] + " vs " + t.methods[b]);
    }
  if (found.empty()) return s + "no detectable difference between any two methods (every interval of P holds ½).";
  s += "no method is detectably better than all others. Detectable: ";
  for (size_t i = 0; i < found.size(); ++i) s += (i ? "; " : "") + found[i];
  s += ". No detectable difference: ";
  for (size_t i = 0; i < none.size(); ++i) s += (i ? ", " : "") + none[i];
  return s + (none.empty() ? "none." : ".");
}

}  // namespace dfb

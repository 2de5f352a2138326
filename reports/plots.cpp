// gnuplot curves (see plots.h).
#include "reports/plots.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <algorithm>

#include "base/error.h"
#include "base/files.h"
#include "reports/text.h"

namespace dfb {

namespace {

// Colour-blind-safe palette (Okabe–Ito), the truth in black.
const char* const kColors[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#999999"};

// Writes `text` to `script`, runs gnuplot on it and returns the SVG it wrote to `svg`, from <svg on.
std::string run_gnuplot(const std::string& script, const std::string& text, const std::string& svg) {
  write_file_atomic(script, text);
  const std::string cmd = "gnuplot " + shell_quote(script) + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) throw Error("report: cannot run gnuplot (install Debian's gnuplot-nox: scripts/setup.sh)");
  std::string output;
  char buffer[512];
  while (fgets(buffer, sizeof buffer, p)) output += buffer;
  const int status = pclose(p);
  if (status != 0 || !std::filesystem::exists(svg))
    throw Error("report: gnuplot failed on " + script +
                (output.find("not found") != std::string::npos ? " (install Debian's gnuplot-nox: scripts/setup.sh)" : "") +
                ": " + output.substr(0, 400));
  std::string out = read_file(svg);
  const size_t start = out.find("<svg");
  return start == std::string::npos ? out : out.substr(start);
}

// The head of a chart of points at categories 0..n−1 (with a little room each side): SVG
// terminal, output, key below the plot, grid, and the categories as x tics.
std::string categorical_head(const std::string& svg, const std::string& size, int key_columns,
                             const std::vector<std::string>& categories) {
  std::string xtics;
  for (size_t i = 0; i < categories.size(); ++i)
    xtics += std::string(i ? ", " : "") + gnuplot_string(categories[i]) + " " + std::to_string(i);
  return "set terminal svg size " + size + " dynamic enhanced font 'Helvetica,12' background rgb 'white'\n"
         "set output " + gnuplot_string(svg) + "\n"
         "set key outside below horizontal maxcols " + std::to_string(key_columns) +
         " samplen 1 font ',10'\nset grid ytics lc rgb '#dddddd'\nset border 3\nset tics nomirror\n"
         "set xrange [-0.6:" + std::to_string(static_cast<double>(categories.size()) - 0.4) + "]\nset xtics (" + xtics +
         ")\n";
}

}  // namespace

std::string plot_metric(const ReportData& d, const std::string& metric, const std::string& work_dir) {
  make_dirs(work_dir);
  const nlohmann::json& info = d.metric_info.at(metric);
  std::string plots;
  size_t colour = 0;
  for (const std::string& set : d.sets) {
    auto it = d.curves.find({set, metric});
    if (it == d.curves.end() || it->second.empty()) continue;
    const bool truth = set == "truth" || (set.size() > 6 && set.compare(set.size() - 6, 6, "/truth") == 0);
    const std::string file = work_dir + "/" + metric + "." + std::to_string(colour) + ".dat";
    std::ofstream out(file);
    for (const CurvePoint& p : it->second)
      if (std::isfinite(p.mean))
        out << p.t << ' ' << p.mean << ' ' << (std::isfinite(p.lo) ? p.lo : p.mean) << ' '
            << (std::isfinite(p.hi) ? p.hi : p.mean) << '\n';
    const std::string c = truth ? "#000000" : kColors[colour % 8];
    if (!plots.empty()) plots += ", \\\n  ";
    plots += gnuplot_string(file) + " using 1:3:4 with filledcurves fc rgb " + gnuplot_string(c) +
             " fs transparent solid 0.15 noborder notitle, \\\n  " + gnuplot_string(file) + " using 1:2 with lines lw 2 " +
             (truth ? "dt 2 " : "") + "lc rgb " + gnuplot_string(c) + " title " + gnuplot_string(gnuplot_text(set));
    if (!truth) ++colour;
  }
  if (plots.empty()) throw Error("report: no curve of " + metric);
  const std::string svg = work_dir + "/" + metric + ".svg", script = work_dir + "/" + metric + ".gp";
  std::string unit = info.value("unit", "");
  std::string g;
  g += "set terminal svg size 560,420 dynamic enhanced font 'Helvetica,12' background rgb 'white'\n";
  g += "set output " + gnuplot_string(svg) + "\n";
  g += "set key outside below horizontal maxcols 3 samplen 2 font ',10'\nset grid lc rgb '#dddddd'\nset border 3\n"
       "set tics nomirror\n";
  g += "set xlabel 'frame index t'\nset ylabel " + gnuplot_string(gnuplot_text(metric + (unit.empty() ? "" : " (" + unit + ")"))) + "\n";
  g += "set title " + gnuplot_string(gnuplot_text(metric + " (" + info.value("better", "") + " is better)")) + "\n";
  g += "set xrange [0:" + std::to_string(d.length - 1) + "]\n";
  g += "set arrow from " + std::to_string(d.t_train) + ", graph 0 to " + std::to_string(d.t_train) +
       ", graph 1 nohead dt 3 lc rgb '#444444'\n";
  g += "set label 'T_{train}' at " + std::to_string(d.t_train) + ", graph 1.03 center\n";
  g += "plot " + plots + "\n";
  return run_gnuplot(script, g, svg);
}

std::string plot_training(const ReportData& d, const std::map<std::string, double>& gate, const std::string& work_dir) {
  make_dirs(work_dir);
  std::vector<std::string> labels;
  for (const std::string& set : d.sets)
    if (d.training.count(set) && !d.training.at(set).empty()) labels.push_back(set);
  if (labels.empty()) throw Error("report: no training curve");
  const size_t cols = std::min<size_t>(3, labels.size()), rows = (labels.size() + cols - 1) / cols;
  const std::string svg = work_dir + "/training.svg", script = work_dir + "/training.gp";
  std::string g;
  g += "set terminal svg size " + std::to_string(360 * cols) + "," + std::to_string(250 * rows) +
       " dynamic enhanced font 'Helvetica,11' background rgb 'white'\n";
  g += "set output " + gnuplot_string(svg) + "\n";
  g += "set multiplot layout " + std::to_string(rows) + "," + std::to_string(cols) + "\n";
  g += "set grid lc rgb '#dddddd'\nset border 11\nset tics nomirror\nset logscale y\nset xlabel 'step'\n"
       "set ylabel 'loss'\nset key outside top center horizontal samplen 2 font ',9' nobox\n";
  for (size_t i = 0; i < labels.size(); ++i) {
    const std::vector<TrainingRun>& runs = d.training.at(labels[i]);
    bool valid = false;
    std::string plots;
    for (size_t r = 0; r < runs.size(); ++r) {
      const std::string base = work_dir + "/training." + std::to_string(i) + "." + std::to_string(r);
      std::ofstream loss(base + ".loss.dat"), val(base + ".val.dat");
      bool run_oracle = false;
      for (const auto& [step, l] : runs[r].loss)
        if (std::isfinite(l) && l > 0) loss << step << ' ' << l << '\n';
      for (const auto& [step, scores] : runs[r].validation) {
        auto it = scores.find("oracle_valid");
        auto vl = scores.find("loss");
        const double o = it == scores.end() ? NAN : it->second, v = vl == scores.end() ? NAN : vl->second;
        run_oracle = run_oracle || std::isfinite(o);
        val << step << ' ' << (std::isfinite(v) && v > 0 ? std::to_string(v) : "NaN") << ' '
            << (std::isfinite(o) ? std::to_string(o) : "NaN") << '\n';
      }
      // A colour per quantity; the seeds are lines of the same colour, named once.
      auto title = [&](const char* t) { return r == 0 ? " title " + gnuplot_string(t) : std::string(" notitle"); };
      if (!plots.empty()) plots += ", \\\n  ";
      plots += gnuplot_string(base + ".loss.dat") + " using 1:2 with lines lw 1 lc rgb " + gnuplot_string(kColors[0]) + title("loss") +
               ", \\\n  " + gnuplot_string(base + ".val.dat") + " using 1:2 with linespoints pt 7 ps 0.4 dt 2 lc rgb " +
               gnuplot_string(kColors[1]) + title("validation loss");
      valid = valid || run_oracle;
      if (run_oracle)
        plots += ", \\\n  " + gnuplot_string(base + ".val.dat") + " using 1:3 axes x1y2 with linespoints pt 5 ps 0.5 lw 2 lc rgb " +
                 gnuplot_string(kColors[2]) + title("oracle valid (right)");
    }
    g += "set title " + gnuplot_string(gnuplot_text(labels[i])) + "\n";
    if (valid) {
      g += "set y2range [0:1]\nset y2tics 0.2\nset y2label 'oracle valid (validation)'\nset border 11\n";
      auto it = gate.find(labels[i]);
      g += "unset arrow\n";
      if (it != gate.end() && std::isfinite(it->second))
        g += "set arrow from graph 0, second " + std::to_string(it->second) + " to graph 1, second " +
             std::to_string(it->second) + " nohead dt 3 lw 1.5 lc rgb '#444444'\n";
    } else {
      g += "unset y2tics\nunset y2label\nunset arrow\nset border 3\n";
    }
    g += "plot " + plots + "\n";
  }
  g += "unset multiplot\n";
  return run_gnuplot(script, g, svg);
}

namespace {

std::string axis_label(const ReportData& d, const std::string& metric) {
  const std::string unit = d.metric_info.at(metric).value("unit", "");
  return gnuplot_text(metric + (unit.empty() ? "" : " (" + unit + ")"));
}

// A centred moving average over `half` frames each side (NaNs skipped), of mean, lo and hi alike.
std::vector<CurvePoint> smoothed(const std::vector<CurvePoint>& c, size_t half) {
  std::vector<CurvePoint> out;
  for (size_t i = 0; i < c.size(); ++i) {
    CurvePoint p{c[i].t, 0, 0, 0};
    double n = 0;
    for (size_t j = i >= half ? i - half : 0; j <= std::min(c.size() - 1, i + half); ++j) {
      if (!std::isfinite(c[j].mean)) continue;
      p.mean += c[j].mean;
      p.lo += std::isfinite(c[j].lo) ? c[j].lo : c[j].mean;
      p.hi += std::isfinite(c[j].hi) ? c[j].hi : c[j].mean;
      ++n;
    }
    if (n == 0) continue;
    p.mean /= n, p.lo /= n, p.hi /= n;
    out.push_back(p);
  }
  return out;
}

}  // namespace

std::string plot_windows(const ReportData& d, const std::string& metric, const std::string& work_dir) {
  make_dirs(work_dir);
  std::vector<std::string> sets;
  for (const std::string& set : d.sets) {
    auto m = d.summaries.find(metric);
    if (m != d.summaries.end() && m->second.count(set)) sets.push_back(set);
  }
  if (sets.empty()) throw Error("report: no summary of " + metric);
  // The windows: within T_train, then the multiples of the first set's summary.
  const MetricCurves::Summaries& first = d.summaries.at(metric).at(sets.front());
  std::vector<std::string> names = {"within T_{train}"};
  for (int64_t k : first.k) names.push_back(std::to_string(k) + "×");
  const double width = 0.7, step = sets.size() > 1 ? width / static_cast<double>(sets.size() - 1) : 0;
  std::string plots;
  size_t colour = 0;
  for (size_t i = 0; i < sets.size(); ++i) {
    const MetricCurves::Summaries& s = d.summaries.at(metric).at(sets[i]);
    const std::string file = work_dir + "/" + metric + ".windows." + std::to_string(i) + ".dat";
    std::ofstream out(file);
    std::vector<Interval> values = {s.within};
    values.insert(values.end(), s.at.begin(), s.at.end());
    for (size_t w = 0; w < values.size() && w < names.size(); ++w) {
      const Interval& v = values[w];
      if (!std::isfinite(v.mean)) continue;
      out << static_cast<double>(w) - width / 2 + step * static_cast<double>(i) << ' ' << v.mean << ' '
          << (std::isfinite(v.lo) ? v.lo : v.mean) << ' ' << (std::isfinite(v.hi) ? v.hi : v.mean) << '\n';
    }
    const bool truth = is_truth_label(sets[i]);
    const std::string c = truth ? "#000000" : kColors[colour++ % 8];
    if (!plots.empty()) plots += ", \\\n  ";
    plots += gnuplot_string(file) + " using 1:2:3:4 with yerrorbars pt " + (truth ? "6" : "7") + " ps 0.8 lw 1.5 lc rgb " +
             gnuplot_string(c) + " title " + gnuplot_string(gnuplot_text(sets[i]));
  }
  const std::string svg = work_dir + "/" + metric + ".windows.svg", script = work_dir + "/" + metric + ".windows.gp";
  std::string g = categorical_head(svg, "560,400", 3, names);
  g += "set ylabel " + gnuplot_string(axis_label(d, metric)) + "\n";
  g += "set title " + gnuplot_string(gnuplot_text(metric + ": mean per window, 95% interval (" +
                                   d.metric_info.at(metric).value("better", "") + " is better)")) + "\n";
  g += "plot " + plots + "\n";
  return run_gnuplot(script, g, svg);
}

std::string plot_against_truth(const ReportData& d, const std::string& metric, const std::string& work_dir) {
  make_dirs(work_dir);
  std::vector<std::string> methods;
  for (const std::string& set : d.sets)
    if (!is_truth_label(set) && d.curves.count({set, metric})) methods.push_back(set);
  if (methods.empty()) throw Error("report: no curve of " + metric);
  const size_t cols = std::min<size_t>(3, methods.size()), rows = (methods.size() + cols - 1) / cols;
  // One y range for every panel, so they compare at a glance.
  double lo = INFINITY, hi = -INFINITY;
  for (const auto& [key, curve] : d.curves)
    if (key.second == metric)
      for (const CurvePoint& p : smoothed(curve, 2)) lo = std::min(lo, p.lo), hi = std::max(hi, p.hi);
  const std::string svg = work_dir + "/" + metric + ".panels.svg", script = work_dir + "/" + metric + ".panels.gp";
  std::string g;
  g += "set terminal svg size " + std::to_string(360 * cols) + "," + std::to_string(230 * rows + 30) +
       " dynamic enhanced font 'Helvetica,11' background rgb 'white'\n";
  g += "set output " + gnuplot_string(svg) + "\n";
  g += "set multiplot layout " + std::to_string(rows) + "," + std::to_string(cols) + " title " +
       gnuplot_string(gnuplot_text(metric + " over the frame index, each method against its truth (dashed); 5-frame moving average")) + "\n";
  g += "set grid lc rgb '#dddddd'\nset border 3\nset tics nomirror\nset key top right samplen 1 font ',9' nobox\n";
  if (std::isfinite(lo) && std::isfinite(hi) && hi > lo)
    g += "set yrange [" + std::to_string(lo - 0.05 * (hi - lo)) + ":" + std::to_string(hi + 0.05 * (hi - lo)) + "]\n";
  g += "set xrange [0:" + std::to_string(d.length - 1) + "]\n";
  g += "set arrow from " + std::to_string(d.t_train) + ", graph 0 to " + std::to_string(d.t_train) +
       ", graph 1 nohead dt 3 lc rgb '#444444'\n";
  for (size_t i = 0; i < methods.size(); ++i) {
    std::string plots;
    const std::string truth = truth_label_of(methods[i]);
    for (const std::string& set : {methods[i], truth}) {
      auto it = d.curves.find({set, metric});
      if (it == d.curves.end()) continue;
      const bool is_truth = set == truth;
      const std::string file = work_dir + "/" + metric + ".panel." + std::to_string(i) + (is_truth ? ".truth" : "") + ".dat";
      std::ofstream out(file);
      for (const CurvePoint& p : smoothed(it->second, 2)) out << p.t << ' ' << p.mean << ' ' << p.lo << ' ' << p.hi << '\n';
      const std::string c = is_truth ? "#000000" : kColors[i % 8];
      if (!plots.empty()) plots += ", \\\n  ";
      plots += gnuplot_string(file) + " using 1:3:4 with filledcurves fc rgb " + gnuplot_string(c) + " fs transparent solid " +
               (is_truth ? "0.08" : "0.2") + " noborder notitle, \\\n  " + gnuplot_string(file) + " using 1:2 with lines lw 2 " +
               (is_truth ? "dt 2 " : "") + "lc rgb " + gnuplot_string(c) + " title " + gnuplot_string(is_truth ? "truth" : "method");
    }
    g += "set title " + gnuplot_string(gnuplot_text(methods[i])) + "\n";
    g += std::string(i / cols == rows - 1 ? "set xlabel 'frame index t'\n" : "unset xlabel\n");
    g += "plot " + plots + "\n";
  }
  g += "unset multiplot\n";
  return run_gnuplot(script, g, svg);
}

std::string plot_memory(const nlohmann::json& memory, const std::string& work_dir) {
  make_dirs(work_dir);
  const nlohmann::json& methods = memory.at("methods");
  std::vector<int64_t> gaps;  // every gap any method was measured at, ascending
  for (const auto& [name, m] : methods.items())
    for (const auto& g : m.at("gaps")) gaps.push_back(g.at("gap").get<int64_t>());
  std::sort(gaps.begin(), gaps.end());
  gaps.erase(std::unique(gaps.begin(), gaps.end()), gaps.end());
  if (gaps.empty()) throw Error("report: the memory section has no gap");
  auto slot = [&](int64_t gap) { return static_cast<double>(std::find(gaps.begin(), gaps.end(), gap) - gaps.begin()); };
  const double width = 0.7, step = methods.size() > 1 ? width / static_cast<double>(methods.size() - 1) : 0;
  std::map<int64_t, double> chance;
  std::string plots;
  size_t i = 0, colour = 0;
  for (const auto& [name, m] : methods.items()) {
    const std::string file = work_dir + "/memory." + std::to_string(i) + ".dat";
    std::ofstream out(file);
    for (const auto& g : m.at("gaps")) {
      const auto& r = g.at("colour_recall");
      if (g.contains("chance") && g.at("chance").at("colour_recall").is_number())
        chance[g.at("gap").get<int64_t>()] = g.at("chance").at("colour_recall").get<double>();
      if (!r.at("mean").is_number()) continue;
      const double mean = r.at("mean").get<double>();
      out << slot(g.at("gap").get<int64_t>()) - width / 2 + step * static_cast<double>(i) << ' ' << mean << ' '
          << (r.at("lo").is_number() ? r.at("lo").get<double>() : mean) << ' ' << (r.at("hi").is_number() ? r.at("hi").get<double>() : mean)
          << '\n';
    }
    const bool truth = name == "truth";
    const std::string c = truth ? "#000000" : kColors[colour++ % 8];
    if (!plots.empty()) plots += ", \\\n  ";
    plots += gnuplot_string(file) + " using 1:2:3:4 with yerrorbars pt " + (truth ? "6" : "7") + " ps 0.8 lw 1.5 lc rgb " +
             gnuplot_string(c) + " title " + gnuplot_string(gnuplot_text(name));
    ++i;
  }
  if (!chance.empty()) {
    const std::string file = work_dir + "/memory.chance.dat";
    std::ofstream out(file);
    for (const auto& [gap, v] : chance) out << slot(gap) - width / 2 - 0.1 << ' ' << v << '\n' << slot(gap) + width / 2 + 0.1 << ' ' << v << "\n\n";
    plots += ", \\\n  " + gnuplot_string(file) + " using 1:2 with lines dt 2 lw 1.5 lc rgb '#000000' title 'chance'";
  }
  std::vector<std::string> names;
  for (int64_t gap : gaps) names.push_back("G = " + std::to_string(gap));
  const std::string svg = work_dir + "/memory.svg", script = work_dir + "/memory.gp";
  std::string g = categorical_head(svg, "760,420", 4, names);
  g += "set yrange [0:1.05]\nset ylabel 'colour recall after the gap'\n";
  g += "set title " + gnuplot_string(gnuplot_text("colour recall after a gap of G frames, 95% interval; chance dashed")) + "\n";
  g += "plot " + plots + "\n";
  return run_gnuplot(script, g, svg);
}

}  // namespace dfb

// gnuplot curves (see plots.h).
#include "reports/plots.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "base/error.h"
#include "base/files.h"

namespace dfb {

namespace {

// Colour-blind-safe palette (Okabe–Ito), the truth in black.
const char* const kColors[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#999999"};

std::string quoted(const std::string& s) {
  std::string q = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') q += '\\';
    q += c;
  }
  return q + "\"";
}

// gnuplot's enhanced text treats _ ^ @ & { } as markup.
std::string plain(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '_' || c == '^' || c == '@' || c == '&' || c == '{' || c == '}') out += '\\';
    out += c;
  }
  return out;
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
    plots += quoted(file) + " using 1:3:4 with filledcurves fc rgb " + quoted(c) +
             " fs transparent solid 0.15 noborder notitle, \\\n  " + quoted(file) + " using 1:2 with lines lw 2 " +
             (truth ? "dt 2 " : "") + "lc rgb " + quoted(c) + " title " + quoted(plain(set));
    if (!truth) ++colour;
  }
  if (plots.empty()) throw Error("report: no curve of " + metric);
  const std::string svg = work_dir + "/" + metric + ".svg", script = work_dir + "/" + metric + ".gp";
  std::string unit = info.value("unit", "");
  std::string g;
  g += "set terminal svg size 720,380 dynamic enhanced font 'Helvetica,12' background rgb 'white'\n";
  g += "set output " + quoted(svg) + "\n";
  g += "set key outside right top box opaque\nset grid lc rgb '#dddddd'\nset border 3\nset tics nomirror\n";
  g += "set xlabel 'frame index t'\nset ylabel " + quoted(plain(metric + (unit.empty() ? "" : " (" + unit + ")"))) + "\n";
  g += "set title " + quoted(plain(metric + " (" + info.value("better", "") + " is better)")) + "\n";
  g += "set xrange [0:" + std::to_string(d.length - 1) + "]\n";
  g += "set arrow from " + std::to_string(d.t_train) + ", graph 0 to " + std::to_string(d.t_train) +
       ", graph 1 nohead dt 3 lc rgb '#444444'\n";
  g += "set label 'T_{train}' at " + std::to_string(d.t_train) + ", graph 1.03 center\n";
  g += "plot " + plots + "\n";
  write_file_atomic(script, g);
  const std::string cmd = "gnuplot " + quoted(script) + " 2>&1";
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
  std::string text = read_file(svg);
  const size_t start = text.find("<svg");
  return start == std::string::npos ? text : text.substr(start);
}

}  // namespace dfb

// The report of evaluated runs: RUN/report/ with
//   index.html  self-contained (plots as inline SVG, strips and video as data URIs): the
//               headline finding, quality curves with bands and T_train, summary tables with
//               the best per column marked, strips at t = 0, T, 2T, 4T, 8T beside the truth,
//               a side-by-side video, the run's config, versions and device;
//   report.md   the same tables, linking plots/, strips/ and video.webm;
//   table.tex   booktabs tables, ready for a paper;
//   curves.csv, metrics.json  copies of the evaluation (one run), or all runs' (several).
// `dfbench report --runs DIR...` and `dfbench reproduce` build it.
#pragma once
#include <string>
#include <vector>

namespace dfb {

struct ReportOptions {
  std::vector<std::string> runs;  // evaluated run folders (metrics.json, curves.csv)
  std::string out;                // "" = RUNS[0]/report
  int64_t rollout = 0;            // the rollout shown in strips and video
};

// Returns the path of index.html. Throws dfb::Error naming what is missing; files are
// written whole (temporary name, then renamed).
std::string build_report(const ReportOptions& options);

}  // namespace dfb

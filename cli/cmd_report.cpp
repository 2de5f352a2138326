// dfbench report --runs RUN...: the report of evaluated runs, rebuilt from their results.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/commands.h"
#include "reports/report.h"

namespace dfb::cli {

void add_report(CLI::App& app) {
  CLI::App* sub = app.add_subcommand(
      "report", "Build the report (index.html, report.md, table.tex, plots, strips, video) of evaluated runs");
  auto o = std::make_shared<ReportOptions>();
  sub->add_option("--runs", o->runs, "run folders holding metrics.json and curves.csv (several combine into one report)")
      ->required();
  sub->add_option("--out", o->out, "report folder (default: RUNS[0]/report)");
  sub->add_option("--rollout", o->rollout, "the rollout shown in strips and video")->capture_default_str();
  on_run(sub, [o] { std::printf("wrote %s\n", build_report(*o).c_str()); });
}

}  // namespace dfb::cli

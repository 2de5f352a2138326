// dfbench status RUN: the tasks of a comparison submitted with reproduce --slurm (or run by hand
// from its manifest): done, running, failed (with the last lines of its log), stale or pending.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/commands.h"
#include "pipeline/slurm.h"

namespace dfb::cli {

void add_status(CLI::App& app) {
  CLI::App* sub = app.add_subcommand("status", "The state of each task of a run folder's Slurm manifest");
  struct Args {
    std::string run;
    double stale = 15;
  };
  auto a = std::make_shared<Args>();
  sub->add_option("run", a->run, "run folder (dfbench reproduce --slurm --out RUN)")->required();
  sub->add_option("--stale-minutes", a->stale, "a task whose log is quiet this long is stale")->capture_default_str();
  on_run(sub, [a] { std::printf("%s", format_run_status(a->run, a->stale).c_str()); });
}

}  // namespace dfb::cli

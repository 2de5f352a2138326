// dfbench check FILE...: read files whole, as the pipeline would, and say what they hold.
// Other commands run it in a child process on every file they did not write
// (pipeline/file_check.h), so that a file that crashes or hangs the HDF5 library costs one
// error line instead of the process.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>

#include "cli/commands.h"
#include "pipeline/file_check.h"

namespace dfb::cli {

void add_check(CLI::App& app) {
  CLI::App* sub = app.add_subcommand(
      "check", "Read rollout, dataset, checkpoint or encoder files whole, with every check, and say what they hold");
  struct Args {
    std::vector<std::string> files;
    std::string kind = "auto";
    bool isolated = false;
  };
  auto a = std::make_shared<Args>();
  sub->add_option("files", a->files, "HDF5 files (docs/formats.md)")->required();
  sub->add_option("--kind", a->kind, "auto | rollout | dataset | checkpoint | encoder")->capture_default_str();
  sub->add_flag("--isolated", a->isolated,
                "read each file in a child process under a deadline, as other commands read files they did not write");
  on_run(sub, [a] {
    const FileKind kind = parse_file_kind(a->kind);
    if (a->isolated) unsetenv("DFB_TRUST_INPUTS");  // asked for: --trust-inputs does not skip it
    for (const std::string& f : a->files) {
      if (a->isolated) {
        check_file_isolated(f, kind);
        std::printf("%s: read cleanly in a child process\n", f.c_str());
      } else {
        std::printf("%s: %s\n", f.c_str(), check_file(f, kind).c_str());
      }
      std::fflush(stdout);  // a parent reading it learns which files passed, even if the next one crashes
    }
  });
}

}  // namespace dfb::cli

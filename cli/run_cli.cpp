// dfbench: one binary, one subcommand per task. Every error reaches run_cli() as an
// exception and ends the process with one line on stderr and a non-zero status.
#include <torch/torch.h>

#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>
#include <thread>

#include "base/error.h"
#include "base/stop_signal.h"
#include "cli/commands.h"
#include "cli/run_cli.h"

namespace dfb {

int run_cli(int argc, char** argv) {
  CLI::App app{"dfbench: long-horizon sequence diffusion, measured (Diffusion Forcing and its baselines)"};
  app.require_subcommand(1);
  int threads = 0;
  app.add_option("--threads", threads, "CPU threads for LibTorch (default: all cores)")->check(CLI::NonNegativeNumber);
  int64_t max_read = 0;
  app.add_option("--max-read-bytes", max_read,
                 "the most memory one read of a file may take (default: this machine's memory; also "
                 "DFB_MAX_READ_BYTES); larger declared sizes are refused")
      ->check(CLI::PositiveNumber);
  bool trust_inputs = false;
  app.add_flag("--trust-inputs", trust_inputs,
               "read files dfbench did not write in this process, without first reading them in a child process "
               "(faster for large files known to be sound; see docs/reliability.md)");
  double check_timeout = 0;
  app.add_option("--check-timeout", check_timeout,
                 "seconds the child process that first reads a file dfbench did not write may take (default: 60 "
                 "plus 60 per GiB; also DFB_CHECK_TIMEOUT)")
      ->check(CLI::PositiveNumber);
  cli::add_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  signal(SIGCHLD, SIG_DFL);  // inherited as ignored, children could not be waited for
  try {
    const int n = threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    at::set_num_threads(n);
    // Through the environment, so that reproduce's child processes read under the same limit.
    if (max_read > 0) setenv("DFB_MAX_READ_BYTES", std::to_string(max_read).c_str(), 1);
    if (trust_inputs) setenv("DFB_TRUST_INPUTS", "1", 1);
    if (check_timeout > 0) setenv("DFB_CHECK_TIMEOUT", std::to_string(check_timeout).c_str(), 1);
    cli::run_selected(app);
  } catch (const Stopped& e) {
    std::fprintf(stderr, "dfbench: stopped: %s\n", e.what());
    return kExitStopped;
  } catch (const Error& e) {
    std::fprintf(stderr, "dfbench: error: %s\n", e.what());
    return 1;
  } catch (const c10::Error& e) {
    std::fprintf(stderr, "dfbench: LibTorch error: %s\n", e.what_without_backtrace());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "dfbench: error: out of memory (std::bad_alloc); a smaller sample.batch or "
                         "--max-read-bytes may help\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dfbench: error: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace dfb

// The dfbench command line as a library call: parses argv, runs the chosen subcommand,
// and returns the exit status (every error is caught here and printed as one line).
// cli/main.cpp is only `return dfb::run_cli(argc, argv);`, so a program linking the
// installed library (with baselines of its own registered) is the full dfbench CLI.
#pragma once

namespace dfb {

int run_cli(int argc, char** argv);

}  // namespace dfb

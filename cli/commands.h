// The subcommands of dfbench. Each cli/cmd_*.cpp adds its subcommand and the
// function that runs it; main() parses, then runs the one selected.
#pragma once
#include <functional>

namespace CLI {
class App;
}

namespace dfb::cli {

// Registers `run` to be called when `sub` was given on the command line.
void on_run(CLI::App* sub, std::function<void()> run);
void add_commands(CLI::App& app);
void run_selected(CLI::App& app);

void add_ls(CLI::App& app);
void add_validate(CLI::App& app);
void add_data(CLI::App& app);
void add_train(CLI::App& app);
void add_sample(CLI::App& app);
void add_reproduce(CLI::App& app);
void add_schedule(CLI::App& app);
void add_shapes(CLI::App& app);
void add_evaluate(CLI::App& app);
void add_encoder(CLI::App& app);
void add_report(CLI::App& app);
void add_check(CLI::App& app);
void add_status(CLI::App& app);

}  // namespace dfb::cli

#include "cli/commands.h"

#include <CLI/CLI.hpp>
#include <vector>

namespace dfb::cli {
namespace {
std::vector<std::pair<CLI::App*, std::function<void()>>>& runners() {
  static std::vector<std::pair<CLI::App*, std::function<void()>>> r;
  return r;
}
}  // namespace

void on_run(CLI::App* sub, std::function<void()> run) { runners().emplace_back(sub, std::move(run)); }

void add_commands(CLI::App& app) {
  add_ls(app);
  add_validate(app);
  add_data(app);
  add_train(app);
  add_sample(app);
  add_reproduce(app);
  add_schedule(app);
  add_shapes(app);
  add_evaluate(app);
  add_encoder(app);
  add_report(app);
  add_check(app);
  add_status(app);
}

void run_selected(CLI::App&) {
  for (auto& [sub, run] : runners())
    if (sub->parsed()) run();
}

}  // namespace dfb::cli

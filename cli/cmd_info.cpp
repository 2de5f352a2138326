// dfbench ls | validate | schedule: what is registered, whether a config is valid,
// and Diffusion Forcing's scheduling matrices (or fifo_diffusion's queue plan) as JSON.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "backbones/backbone.h"
#include "rollout/method.h"
#include "base/presets.h"
#include "base/registry.h"
#include "pipeline/run_config.h"
#include "datasets/dataset_registry.h"
#include "baselines/fifo_diffusion/fifo_plan.h"
#include "diffusion/diffusion.h"
#include "methods/diffusion_forcing/scheduling.h"

namespace dfb::cli {
namespace {

template <class Factory>
void print_kind(const char* title) {
  std::printf("%s:\n", title);
  for (const auto& e : Registry<Factory>::instance().entries())
    std::printf("  %-22s %s\n", e.name.c_str(), e.description.c_str());
}

}  // namespace

void add_ls(CLI::App& app) {
  CLI::App* sub = app.add_subcommand("ls", "List the registered methods, backbones, datasets and presets");
  on_run(sub, [] {
    print_kind<MethodFactory>("methods");
    print_kind<BackboneFactory>("backbones");
    print_kind<DatasetFactory>("datasets");
    std::printf("presets:\n");
    for (const std::string& p : preset_names()) std::printf("  %s\n", p.c_str());
  });
}

void add_validate(CLI::App& app) {
  CLI::App* sub = app.add_subcommand("validate", "Check a config (preset name or JSON file); report every error at once");
  auto config = std::make_shared<std::string>();
  auto sets = std::make_shared<std::vector<std::string>>();
  auto print = std::make_shared<bool>(false);
  sub->add_option("config", *config, "preset name or path to a JSON config")->required();
  sub->add_option("--set", *sets, "override a value: --set train.steps=100 (repeatable)");
  sub->add_flag("--print", *print, "print the fully resolved config");
  on_run(sub, [=] {
    RunConfig c = parse_run_config(load_config_json(*config, *sets), *config);
    if (*print) std::printf("%s\n", c.resolved.dump(2).c_str());
    else std::printf("%s: valid\n", config->c_str());
  });
}

void add_schedule(CLI::App& app) {
  CLI::App* sub = app.add_subcommand(
      "schedule", "Print a Diffusion Forcing scheduling matrix as JSON (rows = steps), or with --mode fifo the "
                  "levels of fifo_diffusion's queue at every call of one pass");
  auto mode = std::make_shared<std::string>("autoregressive");
  auto steps = std::make_shared<int64_t>(10);
  auto frames = std::make_shared<int64_t>(4);
  auto u = std::make_shared<double>(1.0);
  auto partitions = std::make_shared<int64_t>(4);
  auto no_lookahead = std::make_shared<bool>(false);
  auto levels = std::make_shared<int64_t>(DiffusionOptions{}.levels);
  sub->add_option("--mode", *mode, "full_sequence | autoregressive | pyramid | trapezoid | fifo")->capture_default_str();
  sub->add_option("--steps", *steps, "sampling steps S")->capture_default_str();
  sub->add_option("--frames", *frames, "frames in the chunk (h), or the window f with --mode fifo")->capture_default_str();
  sub->add_option("--uncertainty", *u, "uncertainty scale u (pyramid, trapezoid)")->capture_default_str();
  sub->add_option("--partitions", *partitions, "fifo: partitions n (the queue holds n·f frames)")->capture_default_str();
  sub->add_flag("--no-lookahead", *no_lookahead, "fifo: without lookahead denoising");
  sub->add_option("--levels", *levels, "fifo: diffusion levels N")->capture_default_str();
  on_run(sub, [=] {
    if (*mode != "fifo") {
      std::printf("%s\n", nlohmann::json(scheduling_matrix(*mode, *steps, *frames, *u)).dump().c_str());
      return;
    }
    DiffusionOptions o;
    o.levels = *levels;
    std::printf("%s\n", to_json(fifo_plan(*frames, *partitions, !*no_lookahead, Diffusion(o))).dump().c_str());
  });
}

}  // namespace dfb::cli

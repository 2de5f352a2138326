// dfbench train | sample: train a config into a run folder; roll a run out into a rollout file.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "base/error.h"
#include "base/json_reader.h"
#include "base/progress.h"
#include "pipeline/file_check.h"
#include "pipeline/run_config.h"
#include "pipeline/sampler.h"
#include "pipeline/train_run.h"

namespace dfb::cli {

void add_train(CLI::App& app) {
  CLI::App* sub = app.add_subcommand("train", "Train a config (preset or JSON file) into a run folder");
  struct Args {
    std::string config, out, device, precision;
    std::vector<std::string> sets;
    bool resume = false;
    int64_t stop_after = -1;
  };
  auto a = std::make_shared<Args>();
  sub->add_option("--config", a->config, "preset name or JSON file (with --resume: defaults to RUN/config.json)");
  sub->add_option("--out", a->out, "run folder")->required();
  sub->add_option("--set", a->sets, "override a config value: --set train.steps=100 (repeatable)");
  sub->add_option("--device", a->device, "cpu or cuda (overrides the config)");
  sub->add_option("--precision", a->precision, "fp32 or bf16 (autocast; overrides train.precision)")
      ->check(CLI::IsMember({"fp32", "bf16"}));
  sub->add_flag("--resume", a->resume, "continue from the run's latest checkpoint");
  sub->add_option("--stop-after", a->stop_after, "stop after N steps of this call (checkpointed), e.g. to test resume");
  on_run(sub, [a] {
    RunConfig config;
    const std::string stored = (std::filesystem::path(a->out) / "config.json").string();
    if (a->config.empty()) {
      if (!a->resume) throw Error("train needs --config (a preset such as 'smoke', or a JSON file)");
      if (!a->sets.empty() || !a->device.empty() || !a->precision.empty())
        throw Error("--set, --device and --precision cannot change a run being resumed; resume it as it was configured");
      config = load_run_config(a->out);
    } else {
      std::vector<std::string> sets = a->sets;
      if (!a->device.empty()) sets.push_back("device=" + a->device);
      if (!a->precision.empty()) sets.push_back("train.precision=" + a->precision);
      config = parse_run_config(load_config_json(a->config, sets), a->config);
      if (a->resume && std::filesystem::exists(stored) &&
          load_run_config(a->out).resolved != config.resolved)
        throw Error("--config differs from the config of the run in '" + a->out +
                    "'; resume without --config to continue it as it was");
    }
    check_inputs({{config.data.train_file, FileKind::kDataset}, {config.data.eval_file, FileKind::kDataset}});
    TrainRunOptions o;
    o.resume = a->resume;
    o.stop_after = a->stop_after;
    o.stop_on_signal = true;
    TrainSummary s = train_run(config, a->out, o);
    std::printf("trained %s: steps %lld -> %lld in %s (%.1f%% of it waiting for data), loss %.4f, checkpoint %s\n",
                config.name.c_str(), static_cast<long long>(s.start_step), static_cast<long long>(s.end_step),
                format_seconds(s.seconds).c_str(), 100.0 * s.data_wait_seconds / std::max(s.seconds, 1e-9),
                s.last_loss, s.checkpoint.c_str());
  });
}

void add_sample(CLI::App& app) {
  CLI::App* sub = app.add_subcommand("sample", "Roll a trained run out past its training length into a rollout file");
  struct Args {
    std::string run, out, checkpoint, device, precision, clips;
    int64_t context = -1, length = -1, count = -1, batch = -1;
    int64_t seed = -1, steps = -1;
    double eta = -1;
    std::vector<std::string> sets;
  };
  auto a = std::make_shared<Args>();
  sub->add_option("--run", a->run, "run folder (from dfbench train)")->required();
  sub->add_option("--out", a->out, "rollout file to write (HDF5)")->required();
  sub->add_option("--context", a->context, "ground-truth frames given (default: the config's sample.context)");
  sub->add_option("--length", a->length, "frames per rollout, context included (default: sample.length)");
  sub->add_option("--count", a->count, "rollouts (default: sample.count)");
  sub->add_option("--batch", a->batch, "rollouts per backbone call (default: sample.batch)");
  sub->add_option("--seed", a->seed, "rollout seed (default: the run's seed)");
  sub->add_option("--checkpoint", a->checkpoint, "checkpoint file (default: the run's latest)");
  sub->add_option("--clips", a->clips, "dataset file whose first clips are continued (default: the config's evaluation clips)");
  sub->add_option("--device", a->device, "cpu or cuda (default: the run's)");
  sub->add_option("--precision", a->precision, "fp32 or bf16 autocast for the backbone's calls (default: sample.precision)")
      ->check(CLI::IsMember({"fp32", "bf16"}));
  sub->add_option("--steps", a->steps, "sampling steps S (default: sample.steps)");
  sub->add_option("--eta", a->eta, "DDIM eta (default: sample.eta)");
  sub->add_option("--set", a->sets, "override a sampling-time option of the run's config, e.g. --set method.stabilization=0");
  on_run(sub, [a] {
    RunConfig config = load_run_config(a->run);
    if (!a->sets.empty())
      config = parse_run_config(load_config_json(a->run + "/config.json", a->sets), a->run + "/config.json", a->run);
    if (!a->device.empty()) config.device = a->device;
    SampleRequest r = default_request(config);
    if (a->context >= 0) r.context = a->context;
    if (a->length >= 0) r.length = a->length;
    if (a->count >= 0) r.count = a->count;
    if (a->batch >= 0) r.batch = a->batch;
    if (a->seed >= 0) r.seed = static_cast<uint64_t>(a->seed);
    if (a->steps >= 0) r.steps = a->steps;
    if (a->eta >= 0) r.eta = a->eta;
    if (!a->precision.empty()) parse_precision(a->precision, r.precision);
    if (r.steps < 1) throw Error("--steps must be >= 1");
    check_inputs({{a->checkpoint, FileKind::kCheckpoint}, {a->clips, FileKind::kDataset}});
    r.checkpoint = a->checkpoint;
    r.clips_file = a->clips;
    Rollouts s = sample_run(config, a->run, r);
    write_rollout_file(a->out, s);
    std::printf("wrote %s: %lld rollouts of %lld frames (%lld context) by %s, step %lld\n", a->out.c_str(),
                static_cast<long long>(s.generated.count), static_cast<long long>(s.generated.length),
                static_cast<long long>(s.context), s.method.c_str(), static_cast<long long>(s.checkpoint_step));
  });
}

}  // namespace dfb::cli

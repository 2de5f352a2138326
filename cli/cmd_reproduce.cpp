// dfbench reproduce --preset P: data, training, rollouts and the shape-count check
// of every stage that is not done yet, into runs/<preset>/. Rerunning skips
// finished stages and resumes an interrupted training.
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "core/checkpoint.h"
#include "core/error.h"
#include "core/files.h"
#include "core/h5.h"
#include "core/json_reader.h"
#include "core/progress.h"
#include "core/run_config.h"
#include "core/run_parts.h"
#include "core/sampler.h"
#include "core/trainer.h"
#include "datasets/dataset_file.h"
#include "metrics/shape_summary.h"

namespace dfb::cli {
namespace fs = std::filesystem;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Writes `clips` to `path` unless a file with the same generator and shape is there.
void ensure_dataset(const std::string& path, const Clips& clips) {
  if (fs::exists(path)) {
    try {
      h5::Reader f(path);
      if (f.attr_string("/", "generator") == clips.generator_json && f.shape("frames")[0] == clips.count &&
          f.shape("frames")[1] == clips.length) {
        std::printf("data: %s is up to date\n", path.c_str());
        return;
      }
    } catch (const Error&) {  // unreadable or different: write it again
    }
  }
  write_dataset_file(path, clips);
  std::printf("data: wrote %s (%lld clips x %lld frames)\n", path.c_str(), static_cast<long long>(clips.count),
              static_cast<long long>(clips.length));
}

int64_t checkpoint_step(const std::string& run_dir) {
  const std::string latest = latest_checkpoint(run_dir);
  if (latest.empty()) return -1;
  h5::Reader f(latest);
  return f.attr_int("/", "step");
}

}  // namespace

void add_reproduce(CLI::App& app) {
  CLI::App* sub = app.add_subcommand("reproduce", "Data, training, rollouts and checks of a preset, resumable");
  struct Args {
    std::string preset = "smoke", out, device;
    std::vector<std::string> sets;
  };
  auto a = std::make_shared<Args>();
  sub->add_option("--preset", a->preset, "preset name (see dfbench ls) or JSON config file")->capture_default_str();
  sub->add_option("--out", a->out, "output folder (default: runs/<preset name>)");
  sub->add_option("--device", a->device, "cpu or cuda (overrides the preset)");
  sub->add_option("--set", a->sets, "override a config value (repeatable)");
  on_run(sub, [a] {
    const auto t_all = std::chrono::steady_clock::now();
    std::vector<std::string> sets = a->sets;
    if (!a->device.empty()) sets.push_back("device=" + a->device);
    nlohmann::json json = load_config_json(a->preset, sets);
    RunConfig config = parse_run_config(json, a->preset);
    const std::string out = a->out.empty() ? "runs/" + config.name : a->out;
    make_dirs(out + "/data");
    std::printf("reproduce %s into %s (LibTorch %d threads, device %s)\n", config.name.c_str(), out.c_str(),
                at::get_num_threads(), config.device.c_str());

    // 1. Data: procedural data is written once as HDF5 files the training then reads.
    auto t0 = std::chrono::steady_clock::now();
    if (config.data.train_file.empty()) {
      const std::string train = fs::absolute(out + "/data/train.h5").string();
      const std::string eval = fs::absolute(out + "/data/eval.h5").string();
      ensure_dataset(train, load_train_clips(config));
      ensure_dataset(eval, load_eval_clips(config, config.sample.count, config.sample.length));
      json["data"] = {{"train_file", train}, {"eval_file", eval}};
      config = parse_run_config(json, a->preset);
    }
    const double data_s = seconds_since(t0);

    // 2. Training (resumed when a checkpoint is there).
    const std::string method = config.method.value("name", std::string("method"));
    const std::string run = out + "/" + method;
    t0 = std::chrono::steady_clock::now();
    const int64_t have = checkpoint_step(run);
    if (have >= config.train.steps) {
      std::printf("train: %s is trained (%lld steps)\n", run.c_str(), static_cast<long long>(have));
    } else {
      TrainRunOptions o;
      o.resume = have >= 0;
      if (o.resume) std::printf("train: resuming %s from step %lld\n", run.c_str(), static_cast<long long>(have));
      train_run(config, run, o);
    }
    const double train_s = seconds_since(t0);

    // 3. Rollouts past the training length.
    const std::string samples = run + "/samples.h5";
    t0 = std::chrono::steady_clock::now();
    SampleResult result;
    bool fresh = true;
    if (fs::exists(samples)) {
      try {
        result = read_rollout_file(samples);
        h5::Reader f(samples);
        fresh = f.attr_int(result.method, "checkpoint_step") != config.train.steps ||
                result.generated.count != config.sample.count || result.generated.length != config.sample.length;
      } catch (const Error&) {
        fresh = true;
      }
    }
    if (fresh) {
      result = sample_run(load_run_config(run), run, default_request(config));
      write_rollout_file(samples, result);
      std::printf("sample: wrote %s\n", samples.c_str());
    } else {
      std::printf("sample: %s is up to date\n", samples.c_str());
    }
    const double sample_s = seconds_since(t0);

    // 4. The shape-count check.
    if (result.truth.objects > 0) {
      auto shares = shape_count_shares(result.generated, result.truth, static_cast<int>(result.truth.objects),
                                       result.context, result.t_train);
      std::printf("\n%s\n", format_table(method, shares).c_str());
      nlohmann::json summary = {{"preset", config.name},
                                {"method", method},
                                {"t_train", result.t_train},
                                {"context", result.context},
                                {"rollouts", result.generated.count},
                                {"shape_count", to_json(shares)},
                                {"seconds", {{"data", data_s}, {"train", train_s}, {"sample", sample_s}}},
                                {"environment", environment_json(config.device)}};
      write_file_atomic(out + "/shape_count.json", summary.dump(2) + "\n");
    }
    std::printf("reproduce %s: done in %s (data %s, train %s, sample %s)\n", config.name.c_str(),
                format_seconds(seconds_since(t_all)).c_str(), format_seconds(data_s).c_str(),
                format_seconds(train_s).c_str(), format_seconds(sample_s).c_str());
  });
}

}  // namespace dfb::cli

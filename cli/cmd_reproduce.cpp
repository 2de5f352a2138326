// dfbench reproduce --preset P: data, then the training, rollouts and shape-count check
// of every method, then their evaluation together (metrics.json, curves.csv) of the comparison (every registered method the backbone can serve, or
// the preset's "methods"; all on the same data, backbone, budget and seed), into
// runs/<preset>/<method>/. Rerunning skips finished stages and resumes an interrupted training.
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <algorithm>
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
#include "core/suggest.h"
#include "core/trainer.h"
#include "datasets/dataset_file.h"
#include "metrics/evaluate.h"
#include "metrics/shape_summary.h"
#include "reports/report.h"

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

// A trained run is reused only when it was trained with this config; "data" (the output
// folder's shared files, kept in step with the preset by ensure_dataset), "sample", "evaluate",
// where it runs ("device", "threads") and the method's sampling-time options aside.
void check_same_training(const RunConfig& config, const std::string& run) {
  const nlohmann::json trained = load_run_config(run).resolved;
  std::vector<std::string> differ;
  for (const auto& [key, value] : config.resolved.items()) {
    if (key == "data" || key == "sample" || key == "evaluate" || key == "device" || key == "threads") continue;
    const bool same = key == "method" ? trained.contains(key) && training_part(trained[key]) == training_part(value)
                                      : trained.contains(key) && trained[key] == value;
    if (!same) differ.push_back(key);
  }
  if (differ.empty()) return;
  std::string keys;
  for (const std::string& k : differ) keys += (keys.empty() ? "" : ", ") + k;
  throw Error(run + " was trained with a different config (" + keys + " differ: compare " + run +
              "/config.json with `dfbench validate PRESET --print`); remove the folder to retrain it, or give "
              "reproduce another --out");
}

struct MethodOutcome {
  std::string label;
  std::vector<ShapeShare> shares;  // empty when the data has no shape count
  double train_s = 0, sample_s = 0;
};

// The evaluation of every method's rollouts together (dfbench evaluate) into OUT/metrics.json
// and OUT/curves.csv, with the fd_self encoder trained once on the training data. Done again
// when the evaluate section, a rollout file or the encoder changed, or the methods did.
double evaluate_methods(const RunConfig& config, const std::vector<std::string>& labels, const std::string& train_file,
                        const std::string& out) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::string encoder = out + "/encoder.h5", metrics = out + "/metrics.json";
  const EvaluateConfig& e = config.evaluate;
  EncoderTrainOptions to;
  to.steps = e.encoder_steps;
  to.net.dim = e.encoder_dim;
  to.seed = config.seed;
  bool encoder_ok = false;
  if (fs::exists(encoder)) {
    try {
      const EncoderInfo i = FrameEncoder::load(encoder).info();
      encoder_ok = i.steps == to.steps && i.options.dim == to.net.dim && i.seed == to.seed && i.trained_on == train_file;
    } catch (const Error&) {  // unreadable or tampered: train it again
    }
  }
  if (encoder_ok) {
    std::printf("encoder: %s is trained\n", encoder.c_str());
  } else {
    const FrameEncoder enc = train_encoder(read_dataset_file(train_file), train_file, to);
    enc.save(encoder);
    std::printf("encoder: wrote %s (reconstruction MSE %.5f, %s)\n", encoder.c_str(), enc.info().final_loss,
                enc.info().hash.c_str());
  }
  EvaluateOptions o;
  for (const std::string& label : labels) o.samples.push_back(out + "/" + label + "/samples.h5");
  o.encoder = encoder;
  o.bootstrap.resamples = e.bootstrap;
  o.bootstrap.seed = config.seed;
  o.random_encoder.dim = e.encoder_dim;
  o.random_seed = config.seed;
  o.fd_window = e.fd_window > 0 ? e.fd_window : config.train.frames;  // video-level: windows of T_train
  bool fresh = !fs::exists(metrics);
  if (!fresh) {
    try {
      const nlohmann::json old = nlohmann::json::parse(read_file(metrics));
      fresh = old["inputs"]["samples"] != nlohmann::json(o.samples) || old["evaluate"] != config.resolved["evaluate"];
      for (const std::string& input : o.samples)
        fresh = fresh || fs::last_write_time(input) > fs::last_write_time(metrics);
      fresh = fresh || fs::last_write_time(encoder) > fs::last_write_time(metrics);
    } catch (const std::exception&) {
      fresh = true;
    }
  }
  if (!fresh) {
    std::printf("evaluate: %s is up to date\n", metrics.c_str());
    return seconds_since(t0);
  }
  Evaluation ev = evaluate_rollouts(o);
  ev.metrics["evaluate"] = config.resolved["evaluate"];
  write_evaluation(ev, out);
  std::printf("\n%s\nevaluate: wrote %s and %s/curves.csv\n", format_evaluation(ev).c_str(), metrics.c_str(),
              out.c_str());
  return seconds_since(t0);
}

// Training (resumed when a checkpoint is there), rollouts and the shape check of one method.
MethodOutcome reproduce_method(const nlohmann::json& json, const std::string& label, const std::string& source,
                               const std::string& out) {
  MethodOutcome o;
  o.label = label;
  const RunConfig config = parse_run_config(json, source);
  const std::string run = out + "/" + label;
  auto t0 = std::chrono::steady_clock::now();
  const int64_t have = checkpoint_step(run);
  if (have >= 0) check_same_training(config, run);
  if (have >= config.train.steps) {
    std::printf("train: %s is trained (%lld steps)\n", run.c_str(), static_cast<long long>(have));
  } else {
    TrainRunOptions to;
    to.resume = have >= 0;
    if (to.resume) std::printf("train: resuming %s from step %lld\n", run.c_str(), static_cast<long long>(have));
    train_run(config, run, to);
  }
  o.train_s = seconds_since(t0);

  const std::string samples = run + "/samples.h5";
  t0 = std::chrono::steady_clock::now();
  SampleResult result;
  bool fresh = true;
  if (fs::exists(samples)) {
    try {
      result = read_rollout_file(samples);
      h5::Reader f(samples);
      // Made by this model with these sampling options (method options act at sampling time too)?
      const nlohmann::json made = nlohmann::json::parse(result.config_json.empty() ? "{}" : result.config_json);
      fresh = result.method != label || f.attr_int(result.method, "checkpoint_step") != config.train.steps ||
              made.value("method", nlohmann::json()) != config.resolved["method"] ||
              made.value("sample", nlohmann::json()) != config.resolved["sample"];
    } catch (const Error&) {
      fresh = true;
    }
  }
  if (fresh) {
    result = sample_run(config, run, default_request(config));
    result.method = label;
    write_rollout_file(samples, result);
    std::printf("sample: wrote %s\n", samples.c_str());
  } else {
    std::printf("sample: %s is up to date\n", samples.c_str());
  }
  o.sample_s = seconds_since(t0);
  if (result.truth.objects > 0) {
    o.shares = shape_count_shares(result.generated, result.truth, static_cast<int>(result.truth.objects),
                                  result.context, result.t_train);
    std::printf("\n%s\n", format_table(label, o.shares).c_str());
  }
  return o;
}

std::vector<std::string> split_names(const std::string& s) {
  std::vector<std::string> out;
  size_t a = 0;
  while (a <= s.size()) {
    const size_t b = std::min(s.find(',', a), s.size());
    if (b > a) out.push_back(s.substr(a, b - a));
    a = b + 1;
  }
  return out;
}

}  // namespace

void add_reproduce(CLI::App& app) {
  CLI::App* sub = app.add_subcommand("reproduce", "Data, training, rollouts and checks of every method of a preset, resumable");
  struct Args {
    std::string preset = "smoke", out, device, methods;
    std::vector<std::string> sets;
  };
  auto a = std::make_shared<Args>();
  sub->add_option("--preset", a->preset, "preset name (see dfbench ls) or JSON config file")->capture_default_str();
  sub->add_option("--out", a->out, "output folder (default: runs/<preset name>)");
  sub->add_option("--device", a->device, "cpu or cuda (overrides the preset)");
  sub->add_option("--methods", a->methods, "comma-separated subset of the preset's methods (default: all)");
  sub->add_option("--set", a->sets, "override a config value (repeatable)");
  on_run(sub, [a] {
    const auto t_all = std::chrono::steady_clock::now();
    std::vector<std::string> sets = a->sets;
    if (!a->device.empty()) sets.push_back("device=" + a->device);
    nlohmann::json json = load_config_json(a->preset, sets);
    RunConfig config = parse_run_config(json, a->preset);
    const std::string out = a->out.empty() ? "runs/" + config.name : a->out;
    make_dirs(out + "/data");

    // The comparison (RunConfig::methods), optionally a subset.
    std::vector<nlohmann::json> methods = config.methods;
    for (const std::string& why : config.methods_skipped) std::printf("skipping %s\n", why.c_str());
    if (!a->methods.empty()) {
      std::vector<std::string> labels;
      for (const auto& m : methods) labels.push_back(method_label(m));
      std::vector<nlohmann::json> chosen;
      for (const std::string& want : split_names(a->methods)) {
        auto it = std::find(labels.begin(), labels.end(), want);
        if (it == labels.end()) throw Error("--methods: " + unknown_name_message("method of this preset", want, labels));
        chosen.push_back(methods[it - labels.begin()]);
      }
      methods = chosen;
    }
    std::printf("reproduce %s into %s: %zu method(s) (LibTorch %d threads, device %s)\n", config.name.c_str(),
                out.c_str(), methods.size(), at::get_num_threads(), config.device.c_str());

    // 1. Data: procedural data is written once as HDF5 files every method then reads.
    auto t0 = std::chrono::steady_clock::now();
    if (config.data.train_file.empty()) {
      const std::string train = fs::absolute(out + "/data/train.h5").string();
      const std::string eval = fs::absolute(out + "/data/eval.h5").string();
      ensure_dataset(train, load_train_clips(config));
      ensure_dataset(eval, load_eval_clips(config, config.sample.count, config.sample.length));
      json["data"] = {{"train_file", train}, {"eval_file", eval}};
    }
    const double data_s = seconds_since(t0);

    // 2. Every method: training, rollouts past the training length, the shape-count check.
    std::vector<MethodOutcome> outcomes;
    for (size_t i = 0; i < methods.size(); ++i) {
      const std::string label = method_label(methods[i]);
      std::printf("\n== method %zu/%zu: %s ==\n", i + 1, methods.size(), label.c_str());
      outcomes.push_back(reproduce_method(config_for_method(json, methods[i]), label, a->preset, out));
    }

    nlohmann::json per_method = nlohmann::json::object();
    std::vector<std::pair<std::string, std::vector<ShapeShare>>> tables;
    double train_s = 0, sample_s = 0;
    for (const MethodOutcome& o : outcomes) {
      train_s += o.train_s;
      sample_s += o.sample_s;
      per_method[o.label] = {{"seconds", {{"train", o.train_s}, {"sample", o.sample_s}}}};
      if (!o.shares.empty()) {
        per_method[o.label]["shape_count"] = to_json(o.shares);
        tables.emplace_back(o.label, o.shares);
      }
    }
    if (!tables.empty()) {
      std::printf("\n%s\n", format_comparison(tables).c_str());
      nlohmann::json summary = {{"preset", config.name},
                                {"t_train", config.train.frames},
                                {"context", config.sample.context},
                                {"rollouts", config.sample.count},
                                {"methods", per_method},
                                {"seconds", {{"data", data_s}, {"train", train_s}, {"sample", sample_s}}},
                                {"environment", environment_json(config.device)}};
      // Left as it is when every method's shares are the same (only the timings would change).
      bool same = false;
      try {
        const nlohmann::json old = nlohmann::json::parse(read_file(out + "/shape_count.json"));
        same = old["methods"].size() == per_method.size();
        for (const auto& [label, m] : per_method.items())
          same = same && old["methods"].contains(label) && old["methods"][label]["shape_count"] == m["shape_count"];
      } catch (const std::exception&) {
      }
      if (!same) write_file_atomic(out + "/shape_count.json", summary.dump(2) + "\n");
    }

    // 3. Every method's rollouts evaluated together (issue 4: metrics and drift summaries).
    std::vector<std::string> labels;
    for (const MethodOutcome& o : outcomes) labels.push_back(o.label);
    const double evaluate_s = evaluate_methods(config, labels, json["data"]["train_file"].get<std::string>(), out);
    // 4. The report, unless it is newer than the evaluation it shows.
    const std::string index = out + "/report/index.html";
    if (fs::exists(index) && fs::last_write_time(index) >= fs::last_write_time(out + "/metrics.json")) {
      std::printf("report: %s is up to date\n", index.c_str());
    } else {
      ReportOptions ro;
      ro.runs = {out};
      std::printf("report: wrote %s\n", build_report(ro).c_str());
    }
    std::printf("reproduce %s: done in %s (data %s, train %s, sample %s, evaluate %s)\n", config.name.c_str(),
                format_seconds(seconds_since(t_all)).c_str(), format_seconds(data_s).c_str(),
                format_seconds(train_s).c_str(), format_seconds(sample_s).c_str(), format_seconds(evaluate_s).c_str());
  });
}

}  // namespace dfb::cli

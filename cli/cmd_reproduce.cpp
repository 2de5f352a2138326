// dfbench reproduce --preset P [--seeds N] [--methods a,b] [--jobs J]: data, then the training
// and rollouts of every method of the comparison (every registered method the backbone can
// serve, or the preset's "methods"; same data, backbone, budget; seeds seed .. seed + N − 1),
// then their evaluation together and the report, into runs/<preset>/. Every stage is skipped
// when its output is there with the same key and redone when its inputs changed
// (cli/reproduce_stages.h), so a rerun finishes what an interrupted one left.
// With J > 1 the methods train in J child processes at once (on a 2-core CPU two 1-thread
// trainings do 1.3x the work of one 2-thread training).
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <thread>

#include "cli/child_jobs.h"
#include "cli/commands.h"
#include "cli/reproduce_stages.h"
#include "core/error.h"
#include "core/files.h"
#include "core/json_reader.h"
#include "core/progress.h"
#include "core/run_config.h"
#include "core/run_parts.h"
#include "core/suggest.h"
#include "metrics/shape_summary.h"

namespace dfb::cli {
namespace fs = std::filesystem;

namespace {

constexpr const char* kOutcome = "outcome: ";

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

struct Args {
  std::string preset = "smoke", out, device, methods, job;
  std::vector<std::string> sets;
  int64_t seeds = 0, jobs = 0;
};

// Holds OUT/.reproduce.lock while alive: two reproduce runs never write one folder at once.
class FolderLock {
 public:
  explicit FolderLock(const std::string& out) {
    const std::string path = out + "/.reproduce.lock";
    fd_ = open(path.c_str(), O_RDWR | O_CREAT, 0644);
    if (fd_ < 0) throw Error("reproduce: cannot create " + path);
    if (flock(fd_, LOCK_EX | LOCK_NB) != 0)
      throw Error("another dfbench reproduce is writing " + out + "; wait for it, or give this one another --out");
  }
  ~FolderLock() { close(fd_); }
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;

 private:
  int fd_ = -1;
};

// The config of one method and seed: that method entry, seed + k, a name for progress lines.
nlohmann::json job_json(const nlohmann::json& json, const nlohmann::json& method, const RunConfig& config,
                        const MethodJob& job) {
  nlohmann::json j = config_for_method(json, method);
  j["seed"] = config.seed + static_cast<uint64_t>(job.seed_index);
  j["name"] = config.name + ": " + job.name();
  return j;
}

// The outcome line a child prints last (`reproduce --job`).
MethodOutcome read_outcome(const std::string& log, const MethodJob& job) {
  const std::string tail = tail_lines(log, 40);
  const size_t at = tail.rfind(kOutcome);
  if (at == std::string::npos) throw Error(job.name() + ": its log " + log + " has no outcome line");
  const size_t end = tail.find('\n', at);
  return MethodOutcome::from_json(nlohmann::json::parse(tail.substr(at + std::strlen(kOutcome), end - at - std::strlen(kOutcome))));
}

void run_reproduce(const Args& a) {
  const auto t_all = std::chrono::steady_clock::now();
  std::vector<std::string> sets = a.sets;
  if (!a.device.empty()) sets.push_back("device=" + a.device);
  nlohmann::json json = load_config_json(a.preset, sets);
  const RunConfig config = parse_run_config(json, a.preset);
  const std::string out = a.out.empty() ? "runs/" + config.name : a.out;
  const int64_t seeds = a.seeds > 0 ? a.seeds : config.seeds;
  make_dirs(out);

  // The comparison (RunConfig::methods), optionally a subset.
  std::vector<nlohmann::json> methods = config.methods;
  std::vector<std::string> labels;
  for (const auto& m : methods) labels.push_back(method_label(m));
  if (!a.methods.empty()) {
    std::vector<nlohmann::json> chosen;
    for (const std::string& want : split_names(a.methods)) {
      auto it = std::find(labels.begin(), labels.end(), want);
      if (it == labels.end()) throw Error("--methods: " + unknown_name_message("method of this preset", want, labels));
      chosen.push_back(methods[it - labels.begin()]);
    }
    methods = chosen;
  }
  std::vector<MethodJob> jobs;
  std::vector<nlohmann::json> job_methods;
  for (int64_t k = 0; k < seeds; ++k)
    for (const auto& m : methods) {
      jobs.push_back({method_label(m), k, job_dir(out, method_label(m), k)});
      job_methods.push_back(m);
    }

  // A child of --jobs: one method and seed, then its outcome line.
  if (!a.job.empty()) {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);  // the log shows each line as it is printed
    for (size_t i = 0; i < jobs.size(); ++i) {
      if (jobs[i].label + "@" + std::to_string(jobs[i].seed_index) != a.job) continue;
      json = data_stage(json, config, out);
      const MethodOutcome o = method_stage(job_json(json, job_methods[i], config, jobs[i]), jobs[i], a.preset, out);
      std::printf("%s%s\n", kOutcome, o.to_json().dump().c_str());
      return;
    }
    throw Error("--job " + a.job + ": no such method and seed in this preset");
  }

  FolderLock lock(out);
  if (const int n = remove_stale_temporaries(out))
    std::printf("removed %d temporary file(s) an interrupted run left\n", n);
  for (const std::string& why : config.methods_skipped) std::printf("skipping %s\n", why.c_str());
  const int budget = std::max(1, at::get_num_threads());
  int parallel = static_cast<int>(a.jobs);
  if (parallel <= 0)  // on a GPU one at a time; on a CPU 1-thread jobs up to 2 cores, 2-thread jobs above
    parallel = config.device != "cpu" ? 1 : budget <= 2 ? budget : budget / 2;
  parallel = std::max(1, std::min(parallel, static_cast<int>(jobs.size())));
  const int threads = std::max(1, budget / parallel);
  std::printf("reproduce %s into %s: %zu method(s) x %lld seed(s), %d at a time with %d thread(s) each (device %s)\n",
              config.name.c_str(), out.c_str(), methods.size(), static_cast<long long>(seeds), parallel, threads,
              config.device.c_str());

  // 1. Data: procedural data is written once as HDF5 files every method then reads.
  auto t0 = std::chrono::steady_clock::now();
  json = data_stage(json, config, out);
  const double data_s = seconds_since(t0);

  // 2. Every method and seed: training, then rollouts past the training length.
  std::vector<MethodOutcome> outcomes;
  if (parallel == 1) {
    for (size_t i = 0; i < jobs.size(); ++i) {
      std::printf("\n== %zu/%zu: %s ==\n", i + 1, jobs.size(), jobs[i].name().c_str());
      outcomes.push_back(method_stage(job_json(json, job_methods[i], config, jobs[i]), jobs[i], a.preset, out));
    }
  } else {
    std::vector<ChildJob> children;
    std::vector<size_t> started;  // jobs with work left (a finished one is not started, so its log stays as it is)
    outcomes.resize(jobs.size());
    for (size_t i = 0; i < jobs.size(); ++i) {
      const MethodJob& job = jobs[i];
      outcomes[i].label = job.label;
      outcomes[i].seed_index = job.seed_index;
      if (method_stage_done(job_json(json, job_methods[i], config, job), job, a.preset)) {
        std::printf("%s: trained, rollouts up to date\n", job.name().c_str());
        continue;
      }
      started.push_back(i);
      make_dirs(job.dir);
      ChildJob c{job.name(), {"--threads", std::to_string(threads), "reproduce", "--preset", a.preset, "--out", out,
                              "--seeds", std::to_string(seeds), "--job", job.label + "@" + std::to_string(job.seed_index)},
                 job.dir + "/reproduce.log"};
      for (const std::string& s : sets) c.args.insert(c.args.end(), {"--set", s});
      children.push_back(c);
    }
    const std::vector<ChildResult> results = run_children(children, parallel);
    std::string failed;
    for (size_t c = 0; c < children.size(); ++c) {
      const size_t i = started[c];
      if (results[c].exit_code == 0) {
        outcomes[i] = read_outcome(children[c].log, jobs[i]);
        continue;
      }
      failed += "\n  " + jobs[i].name() + " (log " + children[c].log + "):\n    " + tail_lines(children[c].log, 3);
    }
    if (!failed.empty())
      throw Error("reproduce: these methods failed (finished ones are kept; rerun to retry):" + failed);
  }

  // The shape-count check of every rollout file, in one table and shape_count.json.
  nlohmann::json per_method = nlohmann::json::object();
  std::vector<std::pair<std::string, std::vector<ShapeShare>>> tables;
  std::vector<std::string> samples;
  double train_s = 0, sample_s = 0;
  for (size_t i = 0; i < jobs.size(); ++i) {
    const MethodOutcome& o = outcomes[i];
    const std::string name = jobs[i].name();
    samples.push_back(jobs[i].dir + "/samples.h5");
    train_s += o.train_s;
    sample_s += o.sample_s;
    per_method[name] = {{"seconds", {{"train", o.train_s}, {"sample", o.sample_s}}}};
    const std::vector<ShapeShare> shares = rollout_shares(samples.back());
    if (!shares.empty()) {
      per_method[name]["shape_count"] = to_json(shares);
      tables.emplace_back(name, shares);
    }
  }
  if (!tables.empty()) {
    std::printf("\n%s\n", format_comparison(tables).c_str());
    const nlohmann::json summary = {{"preset", config.name},
                                    {"t_train", config.train.frames},
                                    {"context", config.sample.context},
                                    {"rollouts", config.sample.count},
                                    {"seeds", seeds},
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

  // 3. Every method's rollouts (all seeds) evaluated together; 4. the report.
  const double evaluate_s = evaluate_stage(config, samples, json["data"]["train_file"].get<std::string>(), out);
  report_stage(out);
  std::printf("reproduce %s: done in %s (data %s, train %s, sample %s, evaluate %s; train and sample summed over "
              "methods)\n",
              config.name.c_str(), format_seconds(seconds_since(t_all)).c_str(), format_seconds(data_s).c_str(),
              format_seconds(train_s).c_str(), format_seconds(sample_s).c_str(), format_seconds(evaluate_s).c_str());
}

}  // namespace

void add_reproduce(CLI::App& app) {
  CLI::App* sub = app.add_subcommand("reproduce", "Data, training, rollouts, evaluation and report of every method of a preset, resumable");
  auto a = std::make_shared<Args>();
  sub->add_option("--preset", a->preset, "preset name (see dfbench ls) or JSON config file")->capture_default_str();
  sub->add_option("--out", a->out, "output folder (default: runs/<preset name>)");
  sub->add_option("--device", a->device, "cpu or cuda (overrides the preset)");
  sub->add_option("--methods", a->methods, "comma-separated subset of the preset's methods (default: all)");
  sub->add_option("--seeds", a->seeds, "training seeds per method (default: the preset's \"seeds\", else 1)")
      ->check(CLI::PositiveNumber);
  sub->add_option("--jobs", a->jobs,
                  "methods trained at once, in child processes (default: 1 on a GPU; on a CPU, one per core up to 2 "
                  "cores, one per 2 cores above)")
      ->check(CLI::PositiveNumber);
  sub->add_option("--set", a->sets, "override a config value (repeatable)");
  sub->add_option("--job", a->job, "internal: run one METHOD@SEED_INDEX (what --jobs starts)")->group("");
  on_run(sub, [a] { run_reproduce(*a); });
}

}  // namespace dfb::cli

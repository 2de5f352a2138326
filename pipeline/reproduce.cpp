// dfbench reproduce as a library call: data, then the training and rollouts of every method
// of the comparison (every registered method the backbone can serve, or the preset's
// "methods"; same data, backbone, budget; seeds seed .. seed + N − 1), then their evaluation
// together and the report, into runs/<preset>/. Every stage is skipped when its output is
// there with the same key and redone when its inputs changed (pipeline/reproduce_stages.h),
// so a rerun finishes what an interrupted one left. With jobs > 1 the methods train in child
// processes at once (two 1-thread trainings on 2 cores do more work than one 2-thread one).
#include "pipeline/reproduce.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include <torch/torch.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>

#include "base/error.h"
#include "base/files.h"
#include "base/json_reader.h"
#include "base/progress.h"
#include "base/registry.h"
#include "base/suggest.h"
#include "metrics/shape_summary.h"
#include "pipeline/child_jobs.h"
#include "pipeline/reproduce_stages.h"
#include "pipeline/run_config.h"
#include "pipeline/run_parts.h"
#include "rollout/method.h"
#include "tensor/compat.h"
#include "train/distributed.h"

namespace dfb {
namespace fs = std::filesystem;

namespace {

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

// Holds an exclusive flock on PATH while alive, waiting for it: array tasks started at once (after
// a --dry-run nothing wrote the data) write the data one after the other.
class WaitingLock {
 public:
  explicit WaitingLock(const std::string& path) {
    fd_ = open(path.c_str(), O_RDWR | O_CREAT, 0644);
    if (fd_ < 0) throw Error("reproduce: cannot create " + path);
    while (flock(fd_, LOCK_EX) != 0)
      if (errno != EINTR) throw Error("reproduce: cannot lock " + path);
  }
  ~WaitingLock() { close(fd_); }
  WaitingLock(const WaitingLock&) = delete;
  WaitingLock& operator=(const WaitingLock&) = delete;

 private:
  int fd_ = -1;
};

// The config of one method and seed: that method entry, seed + k, a name for progress lines;
// the data reproduce wrote into `out` named relative to the job's folder (so the run folder can
// move), which is what parse_run_config(..., job.dir) reads it against.
nlohmann::json job_json(const nlohmann::json& json, const nlohmann::json& method, const RunConfig& config,
                        const MethodJob& job, const std::string& out) {
  nlohmann::json j = data_paths_relative_to(config_for_method(json, method), out, job.dir);
  j["seed"] = config.seed + static_cast<uint64_t>(job.seed_index);
  j["name"] = config.name + ": " + job.name();
  return j;
}

// What a child of --jobs left in its run folder when it finished (outcome.json).
std::string outcome_path(const MethodJob& job) { return job.dir + "/outcome.json"; }
MethodOutcome read_outcome(const MethodJob& job) {
  const std::string path = outcome_path(job);
  try {
    return MethodOutcome::from_json(nlohmann::json::parse(read_file(path)));
  } catch (const std::exception& e) {
    throw Error(job.name() + ": its child process ended without a readable " + path + " (" + e.what() + ")");
  }
}

// The arguments that make a child (or a Slurm job) reproduce this very comparison.
std::vector<std::string> comparison_args(const ReproduceOptions& a, const std::vector<std::string>& sets,
                                         const std::string& out, int64_t seeds) {
  std::vector<std::string> args = {"reproduce", "--preset", a.preset, "--out", out, "--seeds", std::to_string(seeds)};
  for (const std::string& s : sets) args.insert(args.end(), {"--set", s});
  if (!a.models.empty()) args.insert(args.end(), {"--models", a.models});
  if (!a.methods.empty()) {  // the child must see the same comparison
    std::string names;
    for (const std::string& m : a.methods) names += (names.empty() ? "" : ",") + m;
    args.insert(args.end(), {"--methods", names});
  }
  return args;
}

}  // namespace

void reproduce(const ReproduceOptions& a) {
  const auto t_all = std::chrono::steady_clock::now();
  std::vector<std::string> sets = absolute_data_overrides(a.sets);  // children and Slurm jobs may run elsewhere
  if (!a.device.empty()) sets.push_back("device=" + a.device);
  if (!a.precision.empty()) {
    sets.push_back("train.precision=" + a.precision);
    sets.push_back("sample.precision=" + a.precision);
  }
  nlohmann::json json = load_config_json(a.preset, sets);
  // The comparison (RunConfig::methods), or the methods asked for: the preset's entries by
  // label, and any other registered method by name (with its default options). Chosen before
  // the config is read, so a preset entry left out is not checked against the backbone.
  if (!a.methods.empty()) {
    nlohmann::json listed = json.is_object() && json.contains("methods") && json["methods"].is_array()
                                ? json["methods"]
                                : nlohmann::json::array({json.value("method", nlohmann::json::object())});
    std::vector<std::string> labels;
    for (const auto& m : listed)
      labels.push_back(m.is_string() ? m.get<std::string>() : m.is_object() ? method_label(m) : std::string());
    const std::vector<std::string> registered = Registry<MethodFactory>::instance().names();
    nlohmann::json chosen = nlohmann::json::array();
    for (const std::string& want : a.methods) {
      auto it = std::find(labels.begin(), labels.end(), want);
      if (it != labels.end()) {
        chosen.push_back(listed[it - labels.begin()]);
      } else if (std::find(registered.begin(), registered.end(), want) != registered.end()) {
        chosen.push_back(want);
      } else {
        std::vector<std::string> known = labels;
        known.insert(known.end(), registered.begin(), registered.end());
        throw Error("--methods: " + unknown_name_message("method of this preset or registered method", want, known));
      }
    }
    json["methods"] = chosen;
  }
  const RunConfig config = parse_run_config(json, a.preset);
  const std::string out = a.out.empty() ? "runs/" + config.name : a.out;
  // Data parallel (torchrun's or srun's variables): every training of the comparison spreads over
  // the processes; rank 0 does everything else, the others only join its trainings.
  const WorldOptions w = world_from_environment();
  std::unique_ptr<Communicator> world;
  if (joins_a_world(w)) {
    if (a.slurm || a.task >= 0 || !a.job.empty() || a.jobs > 1)
      throw Error("a data-parallel reproduce (" + std::to_string(w.size) +
                  " processes) trains the methods one after the other, each over all processes; --slurm, --task "
                  "and --jobs do not go with it");
    world = std::make_unique<Communicator>(
        w, parse_device(config.device == "cuda" ? "cuda:" + std::to_string(w.local_rank) : config.device));
  }
  const bool helper = world && world->rank() != 0;
  const int64_t seeds = a.seeds > 0 ? a.seeds : config.seeds;
  make_dirs(out);

  const std::vector<nlohmann::json>& methods = config.methods;
  std::vector<MethodJob> jobs;
  std::vector<nlohmann::json> job_methods;
  for (int64_t k = 0; k < seeds; ++k)
    for (const auto& m : methods) {
      jobs.push_back({method_label(m), k, job_dir(out, method_label(m), k), ""});
      job_methods.push_back(m);
    }
  std::vector<RunConfig> job_configs;  // each job's own config, parsed once
  std::vector<nlohmann::json> job_resolved;
  for (size_t i = 0; i < jobs.size(); ++i) {
    job_configs.push_back(parse_run_config(job_json(json, job_methods[i], config, jobs[i], out), a.preset, jobs[i].dir));
    job_resolved.push_back(job_configs.back().resolved);
  }
  share_training(jobs, job_resolved);
  // With --models, trainings another run folder holds are sampled from there (once the data is there).
  auto reuse = [&](bool say) {
    if (a.models.empty()) return;
    const int n = reuse_models(jobs, job_resolved, a.models, data_key(json["data"]["train_file"].get<std::string>()));
    if (say)
      std::printf("--models %s: %d of %zu entries sample a model trained there instead of training\n", a.models.c_str(),
                  n, jobs.size());
  };

  // A Slurm array task: the manifest's line, run as a child of --jobs runs it.
  std::string job = a.job;
  if (a.task >= 0) {
    for (const SlurmTask& t : read_manifest(out))
      if (t.index == a.task) job = t.label + "@" + std::to_string(t.seed_index);
    if (job.empty()) throw Error("--task " + std::to_string(a.task) + ": no such line in " + out + "/slurm/manifest.tsv");
  }

  // Slurm: the manifest and the scripts, submitted (the data is written first, once).
  if (a.slurm) {
    if (!a.slurm_options.dry_run) json = data_stage(json, config, out);
    std::vector<SlurmTask> tasks;
    for (size_t i = 0; i < jobs.size(); ++i) {
      bool waits = false;
      for (const MethodJob& t : jobs) waits = waits || (!jobs[i].model_dir.empty() && t.dir == jobs[i].model_dir);
      tasks.push_back({static_cast<int64_t>(i), jobs[i].label, jobs[i].seed_index,
                       fs::path(jobs[i].dir).lexically_relative(out).string(), train_key(job_resolved[i], ""), waits});
    }
    ReproduceOptions abs = a;  // the jobs run elsewhere: every path absolute
    if (fs::exists(a.preset)) abs.preset = fs::absolute(a.preset).lexically_normal().string();
    if (!a.models.empty()) abs.models = fs::absolute(a.models).lexically_normal().string();
    std::vector<std::string> command = {a.executable == "/proc/self/exe" ? fs::read_symlink(a.executable).string()
                                                                         : a.executable};
    for (const std::string& w : comparison_args(abs, sets, fs::absolute(out).lexically_normal().string(), seeds))
      command.push_back(w);
    const SlurmSubmission s = submit_slurm(out, tasks, command, a.slurm_options);
    std::printf("reproduce %s --slurm: %zu task(s) in %s\n", config.name.c_str(), tasks.size(), s.manifest.c_str());
    for (const std::string& f : s.scripts) std::printf("  %s\n", f.c_str());
    std::printf(a.slurm_options.dry_run ? "submit them with:\n" : "submitted:\n");
    for (size_t k = 0; k < s.commands.size(); ++k)
      std::printf("  %s%s\n", s.commands[k].c_str(), k < s.job_ids.size() ? ("  # job " + s.job_ids[k]).c_str() : "");
    std::printf("follow them with: dfbench status %s\n", out.c_str());
    return;
  }

  // A child of --jobs (or a Slurm task): one method and seed, then its outcome line.
  if (!job.empty()) {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);  // the log shows each line as it is printed
    for (size_t i = 0; i < jobs.size(); ++i) {
      if (jobs[i].label + "@" + std::to_string(jobs[i].seed_index) != job) continue;
      if (a.task >= 0) fs::remove(outcome_path(jobs[i]));  // done only when this attempt says so
      {
        make_dirs(out + "/data");
        const WaitingLock data_lock(out + "/data/.lock");
        json = data_stage(json, config, out);
      }
      reuse(false);
      const MethodOutcome o = method_stage(job_json(json, job_methods[i], config, jobs[i], out), jobs[i], a.preset, out);
      write_file_atomic(outcome_path(jobs[i]), o.to_json().dump(2) + "\n");
      return;
    }
    throw Error("--job " + job + ": no such method and seed in this preset");
  }

  std::optional<FolderLock> lock;  // rank 0's, in a data-parallel reproduce
  if (!helper) lock.emplace(out);
  if (const int n = helper ? 0 : remove_stale_temporaries(out))
    std::printf("removed %d temporary file(s) an interrupted run left\n", n);
  for (const std::string& why : config.methods_skipped) std::printf("skipping %s\n", why.c_str());
  const int budget = std::max(1, at::get_num_threads());
  int parallel = world ? 1 : static_cast<int>(a.jobs);
  if (parallel <= 0)  // on a GPU one at a time; on a CPU 1-thread jobs up to 2 cores, 2-thread jobs above
    parallel = config.device != "cpu" ? 1 : budget <= 2 ? budget : budget / 2;
  parallel = std::max(1, std::min(parallel, static_cast<int>(jobs.size())));
  const int threads = std::max(1, budget / parallel);
  std::printf("reproduce %s into %s: %zu method(s) x %lld seed(s), %d at a time with %d thread(s) each (device %s)\n",
              config.name.c_str(), out.c_str(), methods.size(), static_cast<long long>(seeds), parallel, threads,
              config.device.c_str());

  // 1. Data: procedural data is written once as HDF5 files every method then reads.
  auto t0 = std::chrono::steady_clock::now();
  if (helper) world->barrier();  // rank 0 writes the data; the others then find it
  json = data_stage(json, config, out);
  if (world && !helper) world->barrier();
  const double data_s = seconds_since(t0);
  reuse(true);

  // 2. Every method and seed: training, then rollouts past the training length.
  std::vector<MethodOutcome> outcomes;
  if (parallel == 1) {
    for (size_t i = 0; i < jobs.size(); ++i) {
      std::printf("\n== %zu/%zu: %s ==\n", i + 1, jobs.size(), jobs[i].name().c_str());
      outcomes.push_back(
          method_stage(job_json(json, job_methods[i], config, jobs[i], out), jobs[i], a.preset, out, world.get()));
    }
    if (helper) {
      std::printf("reproduce %s: rank %lld of %lld joined every training; rank 0 evaluates and reports\n",
                  config.name.c_str(), static_cast<long long>(world->rank()), static_cast<long long>(world->size()));
      return;
    }
  } else {
    std::vector<ChildJob> children;
    std::vector<size_t> started;  // jobs with work left (a finished one is not started, so its log stays as it is)
    outcomes.resize(jobs.size());
    for (size_t i = 0; i < jobs.size(); ++i) {
      const MethodJob& job = jobs[i];
      outcomes[i].label = job.label;
      outcomes[i].seed_index = job.seed_index;
      if (method_stage_done(job_json(json, job_methods[i], config, job, out), job, a.preset)) {
        std::printf("%s: trained, rollouts up to date\n", job.name().c_str());
        continue;
      }
      started.push_back(i);
      make_dirs(job.dir);
      fs::remove(outcome_path(job));  // a stale one must not stand for this attempt
      ChildJob c{job.name(), a.executable, {"--threads", std::to_string(threads)}, job.dir + "/reproduce.log"};
      for (const std::string& w : comparison_args(a, sets, out, seeds)) c.args.push_back(w);
      c.args.insert(c.args.end(), {"--job", job.label + "@" + std::to_string(job.seed_index)});
      children.push_back(c);
    }
    // Two waves: first every entry whose model is there or is its own to train, then those that
    // sample a model another entry of this run trains now.
    auto waits = [&](size_t i) {
      for (size_t t : started)
        if (!jobs[i].model_dir.empty() && jobs[t].dir == jobs[i].model_dir) return true;
      return false;
    };
    std::string failed;
    for (const bool second : {false, true}) {
      std::vector<ChildJob> wave;
      std::vector<size_t> in_wave;
      for (size_t c = 0; c < children.size(); ++c)
        if (waits(started[c]) == second) {
          wave.push_back(children[c]);
          in_wave.push_back(started[c]);
        }
      if (wave.empty()) continue;
      const std::vector<ChildResult> results = run_children(wave, parallel);
      for (size_t c = 0; c < wave.size(); ++c) {
        const size_t i = in_wave[c];
        if (results[c].exit_code == 0) {
          outcomes[i] = read_outcome(jobs[i]);
          continue;
        }
        failed += "\n  " + jobs[i].name() + " (log " + wave[c].log + "):\n    " + tail_lines(wave[c].log, 3);
      }
    }
    if (!failed.empty())
      throw Error("reproduce: these methods failed (finished ones are kept; rerun to retry):" + failed);
  }

  // The shape-count check of every rollout file, in one table and shape_count.json.
  nlohmann::json per_method = nlohmann::json::object();
  std::vector<std::pair<std::string, std::vector<ShapeShare>>> tables;
  std::vector<std::string> samples, memory;
  double train_s = 0, sample_s = 0;
  for (size_t i = 0; i < jobs.size(); ++i) {
    const MethodOutcome& o = outcomes[i];
    const std::string name = jobs[i].name();
    samples.push_back(jobs[i].dir + "/samples.h5");
    if (!config.memory.gaps.empty())  // the method's own config: its backbone decides whether a sink applies
      for (const std::string& f : memory_sample_files(job_configs[i], jobs[i].dir)) memory.push_back(f);
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
  const double evaluate_s = evaluate_stage(config, samples, json["data"]["train_file"].get<std::string>(), out, memory);
  report_stage(out);
  std::printf("reproduce %s: done in %s (data %s, train %s, sample %s, evaluate %s; train and sample summed over "
              "methods)\n",
              config.name.c_str(), format_seconds(seconds_since(t_all)).c_str(), format_seconds(data_s).c_str(),
              format_seconds(train_s).c_str(), format_seconds(sample_s).c_str(), format_seconds(evaluate_s).c_str());
}

}  // namespace dfb

// The stages of dfbench reproduce and their keys (see reproduce_stages.h).
#include "pipeline/reproduce_stages.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>

#include "tensor/checkpoint.h"
#include "base/error.h"
#include "base/files.h"
#include "formats/h5.h"
#include "base/hash.h"
#include "rollout/method.h"
#include "base/progress.h"
#include "pipeline/run_config.h"
#include "pipeline/run_parts.h"
#include "pipeline/sampler.h"
#include "pipeline/train_run.h"
#include "formats/dataset_file.h"
#include "metrics/evaluate.h"
#include "reports/report.h"

namespace dfb {
namespace fs = std::filesystem;

namespace {

constexpr int kReportVersion = 4;  // bump when the report's layout changes, so reruns rebuild it

// Writes `clips` to `path` unless a file with the same generator and shape is there and reads
// back whole (its frames against their checksum).
void ensure_dataset(const std::string& path, const Clips& clips) {
  if (fs::exists(path)) {
    try {
      const Clips stored = read_dataset_file(path);
      if (stored.generator_json == clips.generator_json && stored.count == clips.count && stored.length == clips.length) {
        std::printf("data: %s is up to date\n", path.c_str());
        return;
      }
    } catch (const Error& e) {  // unreadable or damaged: write it again, and say so
      std::printf("data: %s; writing it again\n", e.what());
    }
  }
  write_dataset_file(path, clips);
  std::printf("data: wrote %s (%lld clips x %lld frames)\n", path.c_str(), static_cast<long long>(clips.count),
              static_cast<long long>(clips.length));
}

int64_t checkpoint_step(const std::string& run_dir) {
  std::string note;
  CheckpointData data;
  const std::string latest = latest_intact_checkpoint(run_dir, &note, &data);
  if (!note.empty()) std::printf("train: %s\n", note.c_str());
  return latest.empty() ? -1 : data.step;
}

// Moves a run trained with other inputs to OUT/.replaced/<name>-<time>/ and says so.
void set_aside(const std::string& run, const std::string& out, const std::string& name, const std::string& why) {
  const std::string stamp = std::to_string(static_cast<long long>(std::time(nullptr)));
  std::string safe = name;
  for (char& ch : safe)
    if (ch == ' ' || ch == '/') ch = '-';
  std::string to = out + "/.replaced/" + safe + "-" + stamp;
  for (int k = 2; fs::exists(to); ++k) to = out + "/.replaced/" + safe + "-" + stamp + "-" + std::to_string(k);  // twice in a second
  make_dirs(out + "/.replaced");
  fs::rename(run, to);
  std::printf("train: %s %s; moved it to %s and training again\n", run.c_str(), why.c_str(), to.c_str());
}

struct MethodKeys {
  std::string train, sample;
};
MethodKeys method_keys(const RunConfig& config, const std::string& data) {
  MethodKeys k;
  k.train = train_key(config.resolved, data);
  k.sample = stage_key({k.train, config.train.steps, config.resolved["method"], config.resolved["sample"]});
  return k;
}

// The memory sweep's rollouts of a method (RunConfig::memory): one file per gap length, and one
// more per gap with the attention sink (sink > 0) for a windowed backbone.
struct MemoryRollouts {
  int64_t gap = 0, sink = 0;
  std::string file;
};
std::vector<MemoryRollouts> memory_rollouts(const RunConfig& config, const std::string& run) {
  std::vector<MemoryRollouts> out;
  const bool windowed = config.memory.sink > 0 && !config.memory.gaps.empty() && !build_backbone(config)->recurrent();
  for (int64_t gap : config.memory.gaps) {
    out.push_back({gap, 0, run + "/memory_G" + std::to_string(gap) + ".h5"});
    if (windowed) out.push_back({gap, config.memory.sink, run + "/memory_G" + std::to_string(gap) + "_sink.h5"});
  }
  return out;
}
std::string memory_key(const MethodKeys& k, const RunConfig& config, const MemoryRollouts& m) {
  return stage_key({k.sample, config.resolved["memory"], m.gap, m.sink});
}
std::string memory_label(const std::string& label, const MemoryRollouts& m) {
  return m.sink > 0 ? label + "+sink" + std::to_string(m.sink) : label;
}

// The rollout file holds this method's rollouts made with `key`.
bool samples_current(const std::string& samples, const std::string& label, const std::string& key) {
  if (!fs::exists(samples)) return false;
  try {
    const Rollouts old = read_rollout_file(samples);
    return old.method == label && old.stage_key == key;
  } catch (const Error&) {
    return false;
  }
}

}  // namespace

std::string data_key(const std::string& train_file) {
  h5::Reader f(train_file);
  if (f.has_attr("/", "generator")) return stage_key(f.attr_string("/", "generator"));
  // No path: a run folder keeps its keys when it moves.
  if (f.has_attr("frames", "fnv1a64")) return stage_key({"frames", f.attr_string("frames", "fnv1a64")});
  // Another program's file without a checksum: its name, size, and a checksum of its first and
  // last 64 KiB (cheap for any size; the same after a copy).
  const int64_t size = static_cast<int64_t>(fs::file_size(train_file));
  std::ifstream in(train_file, std::ios::binary);
  std::string head(65536, '\0'), tail(65536, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  in.clear();
  in.seekg(std::max<int64_t>(0, size - 65536));
  in.read(tail.data(), static_cast<std::streamsize>(tail.size()));
  tail.resize(static_cast<size_t>(in.gcount()));
  const std::string ends = head + tail;
  return stage_key({fs::path(train_file).filename().string(), size, checksum_text(ends.data(), ends.size())});
}

std::string train_key(const nlohmann::json& resolved, const std::string& data) {
  nlohmann::json in = nlohmann::json::object();
  for (const auto& [key, value] : resolved.items()) {
    if (key == "data" || key == "sample" || key == "evaluate" || key == "memory" || key == "device" || key == "threads" ||
        key == "name" || key == "seeds")
      continue;
    in[key] = key == "method" ? training_part(value) : value;
  }
  in["data"] = data;
  return stage_key(in);
}

bool method_stage_done(const nlohmann::json& json, const MethodJob& job, const std::string& source) {
  const RunConfig config = parse_run_config(json, source, job.dir);
  const MethodKeys keys = method_keys(config, data_key(config.data.train_file));
  bool done = checkpoint_step(job.model()) >= config.train.steps &&
              samples_current(job.dir + "/samples.h5", job.label, keys.sample);
  for (const MemoryRollouts& m : memory_rollouts(config, job.dir))
    done = done && samples_current(m.file, memory_label(job.label, m), memory_key(keys, config, m));
  return done;
}

int reuse_models(std::vector<MethodJob>& jobs, const std::vector<nlohmann::json>& configs, const std::string& models,
                 const std::string& data) {
  if (!fs::is_directory(models)) throw Error("--models: " + models + " is not a run folder");
  std::vector<std::string> dirs;  // run folders of `models` with a checkpoint: <label>, seed<k>/<label>
  for (const auto& e : fs::directory_iterator(models)) {
    if (!e.is_directory()) continue;
    const std::string name = e.path().filename().string();
    if (name.rfind("seed", 0) == 0 && !fs::exists(e.path() / "config.json")) {
      for (const auto& f : fs::directory_iterator(e.path()))
        if (f.is_directory()) dirs.push_back(f.path().string());
    } else {
      dirs.push_back(e.path().string());
    }
  }
  std::sort(dirs.begin(), dirs.end());
  std::vector<std::pair<std::string, std::string>> trained;  // (train key, folder)
  for (const std::string& dir : dirs) {
    if (!fs::exists(dir + "/config.json")) continue;
    try {
      const int64_t have = checkpoint_step(dir);
      if (have < 0) continue;
      const RunConfig c = load_run_config(dir);
      if (have >= c.train.steps) trained.emplace_back(train_key(c.resolved, data_key(c.data.train_file)), dir);
    } catch (const Error&) {  // not a run this build can read: not a candidate
    }
  }
  for (size_t i = 0; i < jobs.size(); ++i) {
    if (!jobs[i].model_dir.empty()) continue;
    const std::string key = train_key(configs[i], data);
    for (const auto& [k, dir] : trained)
      if (k == key) {
        jobs[i].model_dir = dir;
        break;
      }
  }
  // The entries that shared a job's training now share the model it found.
  for (MethodJob& j : jobs)
    for (const MethodJob& t : jobs)
      if (j.model_dir == t.dir && !t.model_dir.empty()) j.model_dir = t.model_dir;
  int sampling = 0;
  for (const MethodJob& j : jobs)
    for (const auto& [k, dir] : trained)
      if (j.model_dir == dir) {
        ++sampling;
        break;
      }
  return sampling;
}

std::vector<std::string> memory_sample_files(const RunConfig& config, const std::string& run) {
  std::vector<std::string> out;
  for (const MemoryRollouts& m : memory_rollouts(config, run)) out.push_back(m.file);
  return out;
}

std::string MethodJob::name() const {
  return seed_index == 0 ? label : label + " seed " + std::to_string(seed_index);
}

std::string job_dir(const std::string& out, const std::string& label, int64_t seed_index) {
  return seed_index == 0 ? out + "/" + label : out + "/seed" + std::to_string(seed_index) + "/" + label;
}

void share_training(std::vector<MethodJob>& jobs, const std::vector<nlohmann::json>& configs) {
  std::vector<std::string> keys;  // the data is the same for every entry: its key is left out
  for (const nlohmann::json& c : configs) keys.push_back(train_key(c, ""));
  for (size_t i = 0; i < jobs.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (jobs[j].model_dir.empty() && jobs[j].seed_index == jobs[i].seed_index && keys[j] == keys[i]) {
        jobs[i].model_dir = jobs[j].dir;
        break;
      }
}

nlohmann::json data_stage(const nlohmann::json& json, const RunConfig& config, const std::string& out) {
  nlohmann::json j = json;
  if (!config.data.train_file.empty()) return j;
  make_dirs(out + "/data");
  const std::string train = fs::absolute(out + "/data/train.h5").string();
  const std::string eval = fs::absolute(out + "/data/eval.h5").string();
  ensure_dataset(train, load_train_clips(config));
  ensure_dataset(eval, load_eval_clips(config, config.sample.count, config.sample.length));
  for (int64_t gap : config.memory.gaps) ensure_dataset(memory_clips_file(out, gap), load_memory_clips(config, gap));
  j["data"] = {{"train_file", train}, {"eval_file", eval}};
  return j;
}

nlohmann::json MethodOutcome::to_json() const {
  return {{"label", label}, {"seed_index", seed_index}, {"train_s", train_s}, {"sample_s", sample_s}};
}

MethodOutcome MethodOutcome::from_json(const nlohmann::json& j) {
  MethodOutcome o;
  o.label = j.at("label").get<std::string>();
  o.seed_index = j.at("seed_index").get<int64_t>();
  o.train_s = j.at("train_s").get<double>();
  o.sample_s = j.at("sample_s").get<double>();
  return o;
}

MethodOutcome method_stage(const nlohmann::json& json, const MethodJob& job, const std::string& source,
                           const std::string& out, Communicator* world) {
  MethodOutcome o;
  o.label = job.label;
  o.seed_index = job.seed_index;
  const RunConfig config = parse_run_config(json, source, job.dir);
  const std::string& run = job.dir;
  const std::string data = data_key(config.data.train_file);
  const MethodKeys keys = method_keys(config, data);  // the data file is read once
  const std::string& key = keys.train;

  // Training: resumed when its checkpoints were made with this key, redone when the key changed.
  auto t0 = std::chrono::steady_clock::now();
  const std::string& model = job.model();
  TrainRunOptions to;
  to.stop_on_signal = true;  // a Slurm preemption or time limit: checkpoint, exit 75, requeue
  to.world = world;
  if (world && world->rank() != 0) {  // a helper: after rank 0 decided (and set aside), the same decision
    world->barrier();
    const int64_t have = checkpoint_step(model);
    if (job.model_dir.empty() && have < config.train.steps) {
      to.resume = have >= 0;
      train_run(config, run, to);
    }
    o.train_s = seconds_since(t0);
    return o;
  }
  int64_t have = checkpoint_step(model);
  if (!job.model_dir.empty()) {  // another entry's training is this one's
    if (have < config.train.steps || train_key(load_run_config(model).resolved, data) != key)
      throw Error(job.name() + " samples the model trained in " + model +
                  " (the same training), which is not trained to step " + std::to_string(config.train.steps) +
                  " with this config; run that method first");
    std::printf("train: %s uses the training of %s (%lld steps)\n", job.name().c_str(), model.c_str(),
                static_cast<long long>(have));
    make_dirs(run);
  } else {
    if (have >= 0 && train_key(load_run_config(run).resolved, data) != key) {
      set_aside(run, out, job.name(), "was trained with another config or data");
      have = -1;
    }
  }
  if (world) world->barrier();  // the helpers now see what this rank decided
  if (job.model_dir.empty()) {
    if (have >= config.train.steps) {
      std::printf("train: %s is trained (%lld steps)\n", run.c_str(), static_cast<long long>(have));
    } else {
      to.resume = have >= 0;
      if (to.resume) std::printf("train: resuming %s from step %lld\n", run.c_str(), static_cast<long long>(have));
      train_run(config, run, to);
    }
  }
  o.train_s = seconds_since(t0);

  // Rollouts: made again when the model, the method or the sampling options changed.
  const std::string samples = run + "/samples.h5";
  const std::string& sample_key = keys.sample;
  t0 = std::chrono::steady_clock::now();
  if (!samples_current(samples, job.label, sample_key)) {
    Rollouts result = sample_run(config, model, default_request(config));
    result.method = job.label;
    result.stage_key = sample_key;
    write_rollout_file(samples, result);
    std::printf("sample: wrote %s\n", samples.c_str());
  } else {
    std::printf("sample: %s is up to date\n", samples.c_str());
  }
  // The memory sweep: the clips of each gap length continued from the end of their gap.
  for (const MemoryRollouts& m : memory_rollouts(config, run)) {
    const std::string mkey = memory_key(keys, config, m), label = memory_label(job.label, m);
    if (samples_current(m.file, label, mkey)) {
      std::printf("sample: %s is up to date\n", m.file.c_str());
      continue;
    }
    RunConfig swept = config;  // the sink as the rollouts' config records it
    if (m.sink > 0) {
      swept.sample.sink = m.sink;
      swept.resolved["sample"]["sink"] = m.sink;
    }
    SampleRequest req = default_request(swept);
    req.clips_file = memory_clips_file(out, m.gap);
    req.count = config.memory.count;
    req.context = config.memory.before + m.gap;
    req.length = req.context + config.memory.after;
    Rollouts result = sample_run(swept, model, req);
    result.method = label;
    result.stage_key = mkey;
    write_rollout_file(m.file, result);
    std::printf("sample: wrote %s (gap %lld%s)\n", m.file.c_str(), static_cast<long long>(m.gap),
                m.sink > 0 ? (", sink " + std::to_string(m.sink)).c_str() : "");
  }
  o.sample_s = seconds_since(t0);
  return o;
}

std::vector<ShapeShare> rollout_shares(const std::string& samples) {
  const Rollouts r = read_rollout_file(samples);
  if (r.truth.objects <= 0) return {};
  return shape_count_shares(r.generated, r.truth, static_cast<int>(r.truth.objects), r.context, r.t_train);
}

double evaluate_stage(const RunConfig& config, const std::vector<std::string>& samples, const std::string& train_file,
                      const std::string& out, const std::vector<std::string>& memory) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::string encoder = out + "/encoder.h5", metrics = out + "/metrics.json";
  const EvaluateConfig& e = config.evaluate;
  EncoderTrainOptions to;
  to.steps = e.encoder_steps;
  to.net.dim = e.encoder_dim;
  to.seed = config.seed;
  // The training data as the encoder file records it: relative to the run folder when it is in it.
  const fs::path in_out = fs::absolute(train_file).lexically_normal().lexically_relative(fs::absolute(out).lexically_normal());
  const std::string source = !in_out.empty() && *in_out.begin() != ".." ? in_out.string() : train_file;
  std::string encoder_hash;
  if (fs::exists(encoder)) {
    try {
      const EncoderInfo i = FrameEncoder::load(encoder).info();
      if (i.steps == to.steps && i.options.dim == to.net.dim && i.seed == to.seed && i.trained_on == source)
        encoder_hash = i.hash;
    } catch (const Error&) {  // unreadable or tampered: train it again
    }
  }
  if (!encoder_hash.empty()) {
    std::printf("encoder: %s is trained\n", encoder.c_str());
  } else {
    const FrameEncoder enc = train_encoder(read_dataset_file(train_file), source, to);
    enc.save(encoder);
    encoder_hash = enc.info().hash;
    std::printf("encoder: wrote %s (reconstruction MSE %.5f, %s)\n", encoder.c_str(), enc.info().final_loss,
                encoder_hash.c_str());
  }
  EvaluateOptions o;
  o.samples = samples;
  for (const std::string& s : samples) {  // each rollout file sits in the run folder that trained it
    const std::string run = fs::path(s).parent_path().string();
    o.train_runs.push_back(fs::exists(run + "/train_log.jsonl") ? run : "");
  }
  o.encoder = encoder;
  o.bootstrap.resamples = e.bootstrap;
  o.bootstrap.seed = config.seed;
  o.random_encoder.dim = e.encoder_dim;
  o.random_seed = config.seed;
  o.fd_window = e.fd_window > 0 ? e.fd_window : config.train.frames;  // video-level: windows of T_train
  nlohmann::json inputs = {{"evaluate", config.resolved["evaluate"]}, {"encoder", encoder_hash},
                           {"fd_window", o.fd_window}, {"samples", nlohmann::json::array()}};
  // Each file by its place in the run folder, not its path: a moved run folder stays evaluated.
  auto place = [&out](const std::string& s) { return fs::path(s).lexically_relative(out).string(); };
  for (const std::string& s : samples) inputs["samples"].push_back({place(s), read_rollout_file(s).stage_key});
  for (const std::string& s : memory) inputs["memory"].push_back({place(s), read_rollout_file(s).stage_key});
  if (!memory.empty()) inputs["versions"]["memory"] = 1;
  for (const MetricInfo& m : metric_catalogue()) inputs["versions"][m.name] = m.version;
  inputs["versions"]["training"] = 1;  // metrics.json's training section
  const std::string key = stage_key(inputs);
  try {
    if (nlohmann::json::parse(read_file(metrics)).value("stage_key", std::string()) == key &&
        fs::exists(out + "/curves.csv")) {
      std::printf("evaluate: %s is up to date\n", metrics.c_str());
      return seconds_since(t0);
    }
  } catch (const std::exception&) {  // missing or unreadable: evaluate
  }
  Evaluation ev = evaluate_rollouts(o);
  if (!memory.empty()) {  // the sweep's files continue other clips: their memory section alone, merged in
    EvaluateOptions mo = o;
    mo.samples = memory;
    mo.train_runs.clear();
    ev.metrics["memory"] = evaluate_rollouts(mo).metrics["memory"];
  }
  ev.metrics["evaluate"] = config.resolved["evaluate"];
  ev.metrics["stage_key"] = key;
  write_evaluation(ev, out);
  std::printf("\n%s\nevaluate: wrote %s and %s/curves.csv\n", format_evaluation(ev).c_str(), metrics.c_str(),
              out.c_str());
  return seconds_since(t0);
}

void report_stage(const std::string& out) {
  const std::string stamp = out + "/report/stage.json";
  const nlohmann::json metrics = nlohmann::json::parse(read_file(out + "/metrics.json"));
  const std::string key = stage_key({metrics.value("stage_key", std::string()), kReportVersion});
  try {
    if (nlohmann::json::parse(read_file(stamp)).value("stage_key", std::string()) == key &&
        fs::exists(out + "/report/index.html")) {
      std::printf("report: %s/report/index.html is up to date\n", out.c_str());
      return;
    }
  } catch (const std::exception&) {  // missing or unreadable: build it
  }
  ReportOptions ro;
  ro.runs = {out};
  std::printf("report: wrote %s\n", build_report(ro).c_str());
  write_file_atomic(stamp, nlohmann::json({{"stage_key", key}}).dump(2) + "\n");
}

}  // namespace dfb

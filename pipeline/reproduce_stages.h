// The stages of `dfbench reproduce`, each skipped when its output exists and its key
// (base/hash.h: the hash of what the output depends on) is unchanged, and done again
// when the key changed:
//   data      runs/P/data/{train,eval}.h5     key: the generator config (an HDF5 attribute)
//   train     runs/P/<method>/checkpoints      key: the resolved config minus what only acts at
//                                              sampling or evaluation, plus the data's key
//   sample    runs/P/<method>/samples.h5       key: train key, checkpoint step, method, sample
//   memory    runs/P/<method>/memory_G<g>.h5   key: sample key, memory section, gap (a "memory" sweep only)
//   evaluate  runs/P/metrics.json, curves.csv  key: evaluate section, every rollout file's key,
//                                              the fd_self encoder's content hash
//   report    runs/P/report/                   key: the evaluation's key, the report version
// A trained run whose key changed is moved to runs/P/.replaced/ (nothing trained is lost)
// and trained again. Seed k > 0 of a method lives in runs/P/seed<k>/<method>/.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "train/distributed.h"

#include "metrics/shape_summary.h"

namespace dfb {
struct RunConfig;
}

namespace dfb {

// What a training file is: the hash of its generator config when it has one, else of its
// path and size.
std::string data_key(const std::string& train_file);
// The train key of a resolved config: everything that shapes the trained weights — every
// section but data (replaced by `data`, the data's key), sample, evaluate, memory, device, threads,
// name and seeds, and the method without the options it reads as sampling-time ones.
std::string train_key(const nlohmann::json& resolved, const std::string& data);

// One training run of the comparison: a method entry and a seed index.
struct MethodJob {
  std::string label;    // the method entry's label (its run folder's name)
  int64_t seed_index = 0;
  std::string dir;      // its run folder
  // The run folder whose checkpoints it samples: another entry's of the same seed when their
  // training is the same (share_training), else empty (its own: it trains).
  std::string model_dir;
  std::string name() const;  // "label" or "label seed k"
  const std::string& model() const { return model_dir.empty() ? dir : model_dir; }
};
std::string job_dir(const std::string& out, const std::string& label, int64_t seed_index);

// Entries of one seed whose training is the same — the same train key, as for fifo_diffusion
// (MethodFactory::trains_as) beside full_sequence, or one method under two sampling-time
// settings — train once: the first of them in the list trains, the others get its folder as
// model_dir. `configs[i]` is job i's resolved config.
void share_training(std::vector<MethodJob>& jobs, const std::vector<nlohmann::json>& configs);
// Jobs that train (no model_dir yet) whose training another run folder already holds
// (`models`: a run of `dfbench reproduce`, its <label> and seed<k>/<label> folders, trained to
// the end with the same train key) sample that folder's model instead (reproduce --models).
// `data` is this run's data key. Returns how many jobs now sample a model found there.
int reuse_models(std::vector<MethodJob>& jobs, const std::vector<nlohmann::json>& configs, const std::string& models,
                 const std::string& data);
// Writes the procedural data once (or checks it is up to date) and returns the JSON with
// "data" naming the files every method reads. Files given by the config are left alone.
nlohmann::json data_stage(const nlohmann::json& json, const RunConfig& config, const std::string& out);

struct MethodOutcome {
  std::string label;
  int64_t seed_index = 0;
  double train_s = 0, sample_s = 0;
  nlohmann::json to_json() const;
  static MethodOutcome from_json(const nlohmann::json& j);
};
// Training (resumed from its last checkpoint, or redone when its key changed) and rollouts
// of one method and seed; a job with a model_dir trains nothing and needs that run trained. `json` is the run config of that method (config_for_method).
// `world`: a data-parallel reproduce (train/distributed.h). Rank 0 decides and does everything
// as alone, and trains with the others; the other ranks only join the training rank 0 decides.
MethodOutcome method_stage(const nlohmann::json& json, const MethodJob& job, const std::string& source,
                           const std::string& out, Communicator* world = nullptr);

// Both are done: trained to the end with this config, rollouts made with these options.
bool method_stage_done(const nlohmann::json& json, const MethodJob& job, const std::string& source);
// The memory sweep's rollout files of a method's run folder, one per gap length (none without a sweep).
std::vector<std::string> memory_sample_files(const RunConfig& config, const std::string& run);

// The shape-count shares of a rollout file (empty when the data has no object count).
std::vector<ShapeShare> rollout_shares(const std::string& samples);

// Every method's rollouts (all seeds) evaluated together into OUT/metrics.json and curves.csv;
// the memory sweep's files (`memory`, possibly none) add metrics.json's "memory" section.
double evaluate_stage(const RunConfig& config, const std::vector<std::string>& samples, const std::string& train_file,
                      const std::string& out, const std::vector<std::string>& memory = {});
// OUT/report/ from OUT's evaluation.
void report_stage(const std::string& out);

}  // namespace dfb

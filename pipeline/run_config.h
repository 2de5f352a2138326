// The run configuration: one JSON object, read strictly (docs/design.md §7 config.json).
// Sections: name, seed, seeds, device, threads, data, diffusion, backbone, method, methods, train, sample, evaluate,
// memory (optional).
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "diffusion/diffusion.h"
#include "train/train_config.h"

namespace dfb {

struct DataConfig {
  std::string dataset = "bouncing_shapes";  // a registered procedural dataset, used when no files are given
  nlohmann::json options = nlohmann::json::object();  // the dataset's own options (validated by it)
  int64_t train_clips = 1024;
  int64_t clip_length = 8;                  // frames per stored training clip (>= train.frames)
  uint64_t seed = 1;                        // data seed (evaluation clips use a derived seed)
  std::string train_file;                   // HDF5 dataset files; when set they replace the generator
  std::string eval_file;
};

struct SampleConfig {
  int64_t steps = 10;    // DDIM steps S
  double eta = 0.0;
  int64_t context = 2;   // n_ctx ground-truth frames given
  int64_t length = 64;   // total frames per rollout, context included
  int64_t count = 16;    // rollouts
  int64_t batch = 16;    // rollouts per backbone call
  int64_t sink = 0;      // attention sink: first frames kept in every window (RolloutOptions::sink); recorded only when given
  Precision precision = Precision::kFp32;  // of the backbone calls (the DDIM update: fp32)
};

// How `reproduce` evaluates the rollouts (dfbench evaluate's options).
struct EvaluateConfig {
  int64_t encoder_steps = 3000;  // training steps of the fd_self encoder
  int64_t encoder_dim = 12;      // its features (and fd_random's)
  int64_t bootstrap = 1000;      // resamples of the 95% intervals
  int64_t fd_window = 0;         // frames per window of fd_*_w; 0 = T_train
};

// The memory sweep of `reproduce` (docs/design.md §4.8; off unless the config has a "memory"
// section): for every gap length G, `count` evaluation clips of `before` frames, a blackout of
// G frames and `after` frames; each method is given the first before + G frames and continues
// them, and the memory metrics score what comes back after the gap. Needs bouncing_shapes data
// with memory "blackout" (the options of its training clips; the sweep sets the gap itself).
struct MemoryConfig {
  std::vector<int64_t> gaps;  // ascending; empty = no memory sweep
  int64_t before = 4;         // frames shown before the gap (the objects' colours, sizes, motion)
  int64_t after = 8;          // frames generated after it
  int64_t count = 16;         // clips per gap length (the chance level needs at least 2)
  // > 0: windowed models are rolled out a second time with an attention sink of this many frames
  // (SampleConfig::sink), labelled "<label>+sink<k>": the cheap inference-time memory.
  int64_t sink = 0;
};

struct RunConfig {
  std::string name = "run";
  uint64_t seed = 0;
  int64_t seeds = 1;    // reproduce: training seeds per method (seed, seed + 1, ...)
  std::string device = "cpu";
  int64_t threads = 0;  // 0 = all cores
  DataConfig data;
  DiffusionOptions diffusion;
  nlohmann::json backbone = nlohmann::json::object();  // {"name": "unet3d", options...}
  nlohmann::json method = nlohmann::json::object();    // {"name": "diffusion_forcing", options...}
  // The comparison `reproduce` runs (docs/design.md §4): every entry trained and rolled out
  // with the same data, backbone, training budget and seed. Each is a method object like
  // `method` (a bare name stands for {"name": name}), which may carry a "backbone" of its own
  // (the same method on two backbones, e.g. for the memory sweep). Absent: `method` alone. Resolved.
  std::vector<nlohmann::json> methods;
  std::vector<std::string> methods_skipped;  // "name: why" for registered methods the backbone cannot serve
  TrainConfig train;
  SampleConfig sample;
  EvaluateConfig evaluate;
  MemoryConfig memory;

  nlohmann::json resolved;  // every key with its value or default: what config.json holds
};

// Reads and validates everything (backbone and method options included, by building
// them through their registries). Throws one dfb::Error listing every problem,
// each with its JSON path; `source` names where the JSON came from. Relative data files
// (data.train_file, data.eval_file) are taken relative to `base_dir` when it is given (a run
// folder: what its config.json says), else to the working directory; `resolved` keeps them as
// written, so a run folder that holds its data can be moved.
RunConfig parse_run_config(const nlohmann::json& json, const std::string& source, const std::string& base_dir = "");

// `--set` lines with the data files they name (data.train_file=, data.eval_file=) made absolute
// against the working directory, so that they mean the same wherever they are applied.
std::vector<std::string> absolute_data_overrides(std::vector<std::string> overrides);
// `json` with data files under `root` written relative to `dir` (a run folder under `root`).
nlohmann::json data_paths_relative_to(nlohmann::json json, const std::string& root, const std::string& dir);

// A config from a preset name or a file path, with "a.b=value" overrides applied, its data files
// made absolute: those of a config file against the file's folder (a run's config.json names
// its data relative to the run), those of a preset and of overrides against the working
// directory.
nlohmann::json load_config_json(const std::string& preset_or_path, const std::vector<std::string>& overrides);

// The image shape the data implies: channels and size (from the dataset options or the train file).
struct DataShape {
  int64_t channels = 3, size = 32;
};
DataShape data_shape(const RunConfig& config);

// The config of one entry of `methods`: `json` with "method" set to it and "methods" removed
// (what `train` of that method alone would read); an entry's own "backbone" replaces the config's,
// and its own "sampling" options are merged over the config's "sample".
nlohmann::json config_for_method(const nlohmann::json& json, const nlohmann::json& method);
// A method entry's run name: its "name", or "label" when given (two entries may share a name
// with different options, e.g. two guidance weights).
std::string method_label(const nlohmann::json& method);

}  // namespace dfb

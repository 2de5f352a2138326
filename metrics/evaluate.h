// dfbench evaluate: every metric of docs/design.md §6 on every method of one or more rollout
// files, as curves over the frame index with 95% bootstrap intervals over rollouts, and
// the degradation summaries. Works on any file in the documented layout, so rollouts of
// models dfbench did not train are measured the same way.
//
// Outputs (write_evaluation, each file written whole or not at all):
//   metrics.json — inputs, versions, encoders (with hashes), and per metric: its version,
//                  which way is better, and per method the summaries with intervals;
//   curves.csv   — method,metric,t,mean,lo,hi: one row per method, metric and frame index t
//                  (counted from the first frame of the file, context included).
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "metrics/curves.h"
#include "metrics/encoder.h"

namespace dfb {

struct MetricInfo {
  std::string name;      // e.g. "ssim", "fd_random", "oracle_valid"
  int version = 1;       // bumped whenever a definition changes
  std::string better;    // "higher", "lower", or "closer to real" (statistics that describe frames)
  std::string needs;     // "truth" (the ground-truth continuation), "states" (bouncing_shapes),
                         // "encoder" (--encoder), "" (nothing)
  std::string unit;
  std::string what;      // one line
};
// Every metric evaluate can compute, in report order.
const std::vector<MetricInfo>& metric_catalogue();

struct EvaluateOptions {
  std::vector<std::string> samples;  // rollout files; their methods are pooled and must continue the same truth
  std::vector<std::string> train_runs;  // empty, or per rollout file the run folder that trained it ("" = not
                                        // known): metrics.json's "training" section (metrics/training_summary.h)
  std::string real;                  // dataset file of real clips for the Fréchet distances and histograms
                                     // ("" = the truth frames of the rollout files)
  std::string encoder;               // fd_self encoder file (dfbench encoder train); "" = no fd_self
  std::vector<std::string> metrics;  // empty = every metric the inputs allow; a listed one that cannot be
                                     // computed is an error
  BootstrapOptions bootstrap;
  int64_t t_train = 0;               // training length that sets the windows; 0 = the files' t_train
  int64_t fd_window = 8;             // frames per window of the video-level Fréchet distances (0 = none)
  EncoderOptions random_encoder;     // fd_random's architecture
  uint64_t random_seed = 0;          // fd_random's weights
  int64_t real_max_frames = 20000;   // at most this many real frames (a seeded subset) for the reference
  bool quiet = false;
};

struct Evaluation {
  nlohmann::json metrics;            // what metrics.json holds
  std::string curves_csv;
  std::vector<std::string> notes;    // metrics left out and why (also in metrics.json)
};

// Throws dfb::Error naming the file and the problem before anything is written.
Evaluation evaluate_rollouts(const EvaluateOptions& options);
// Writes OUT/metrics.json and OUT/curves.csv (each to a temporary file, then renamed).
void write_evaluation(const Evaluation& evaluation, const std::string& out_dir);
// A short table for the terminal: per method, each key metric within T_train and at the largest multiple.
std::string format_evaluation(const Evaluation& evaluation);

}  // namespace dfb

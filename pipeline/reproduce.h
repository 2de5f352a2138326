// The comparison of one preset, end to end and resumable (dfbench reproduce): see
// pipeline/reproduce.cpp for the stages and pipeline/reproduce_stages.h for their keys.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "pipeline/slurm.h"

namespace dfb {

struct ReproduceOptions {
  std::string preset = "smoke";       // a preset name (dfbench ls) or a JSON config file
  std::string out;                    // the run folder; "" = runs/<the config's name>
  std::string device;                 // "" = the preset's
  std::string precision;              // fp32 | bf16 for training and sampling; "" = the preset's
  std::vector<std::string> methods;   // a subset of the preset's methods, by label; empty = all
  std::vector<std::string> sets;      // "a.b=value" overrides
  int64_t seeds = 0;                  // training seeds per method; 0 = the preset's "seeds"
  // Methods trained at once in child processes; 0 = 1 on a GPU, on a CPU one per core up to
  // 2 cores and one per 2 cores above. Children are `executable reproduce ... --job M@K`.
  int64_t jobs = 0;
  std::string executable = "/proc/self/exe";  // a dfbench CLI (this process, when it is one)
  std::string job;                    // internal: run only METHOD@SEED_INDEX (what a child does)
  // Write RUN/slurm/ (manifest and sbatch scripts) and submit them instead of running here.
  bool slurm = false;
  SlurmOptions slurm_options;
  int64_t task = -1;                  // run only line `task` of RUN/slurm/manifest.tsv (a Slurm array task)
  // A run folder whose trained models are sampled where their training is the one a method
  // would do here (same train key): a sampling sweep over another comparison's models.
  std::string models;
};

// Runs (or finishes) the comparison into the run folder; throws dfb::Error on failure,
// keeping everything finished.
void reproduce(const ReproduceOptions& options);

}  // namespace dfb

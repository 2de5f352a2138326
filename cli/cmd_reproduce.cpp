// dfbench reproduce: the options of pipeline/reproduce.h from the command line.
#include <CLI/CLI.hpp>
#include <memory>

#include "cli/commands.h"
#include "base/error.h"
#include "pipeline/reproduce.h"

namespace dfb::cli {

namespace {
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
  CLI::App* sub = app.add_subcommand("reproduce", "Data, training, rollouts, evaluation and report of every method of a preset, resumable");
  auto a = std::make_shared<ReproduceOptions>();
  auto methods = std::make_shared<std::string>();
  sub->add_option("--preset", a->preset, "preset name (see dfbench ls) or JSON config file")->capture_default_str();
  sub->add_option("--out", a->out, "output folder (default: runs/<preset name>)");
  sub->add_option("--device", a->device, "cpu or cuda (overrides the preset)");
  sub->add_option("--precision", a->precision, "fp32 or bf16 (autocast) for training and rollouts (overrides the preset)")
      ->check(CLI::IsMember({"fp32", "bf16"}));
  sub->add_option("--methods", *methods, "comma-separated subset of the preset's methods (default: all)");
  sub->add_option("--seeds", a->seeds, "training seeds per method (default: the preset's \"seeds\", else 1)")
      ->check(CLI::PositiveNumber);
  sub->add_option("--jobs", a->jobs,
                  "methods trained at once, in child processes (default: 1 on a GPU; on a CPU, one per core up to 2 "
                  "cores, one per 2 cores above)")
      ->check(CLI::PositiveNumber);
  sub->add_option("--set", a->sets, "override a config value (repeatable)");
  sub->add_option("--models", a->models,
                  "sample the trained models of this run folder where their training is the same (train nothing "
                  "it already holds: a sampling sweep over another comparison)");
  sub->add_option("--job", a->job, "internal: run one METHOD@SEED_INDEX (what --jobs starts)")->group("");
  SlurmOptions& s = a->slurm_options;
  const char* slurm = "Slurm (docs/cluster.md)";
  sub->add_flag("--slurm", a->slurm,
                "write the manifest and sbatch scripts into OUT/slurm/ and submit them: an array of one task per "
                "method and seed, then the evaluation and report after them (afterok)")
      ->group(slurm);
  sub->add_flag("--dry-run", s.dry_run, "with --slurm: write the files and print the sbatch lines, submit nothing")
      ->group(slurm);
  sub->add_option("--partition", s.partition, "the partition every job asks for")->group(slurm);
  sub->add_option("--time", s.time, "time limit per job, e.g. 02:00:00")->group(slurm);
  sub->add_option("--account", s.account, "the account to charge")->group(slurm);
  sub->add_option("--gpus-per-task", s.gpus_per_task, "GPUs per task")->group(slurm)->check(CLI::NonNegativeNumber);
  sub->add_option("--cpus-per-task", s.cpus_per_task, "CPUs per task (also its --threads)")
      ->group(slurm)->check(CLI::NonNegativeNumber);
  sub->add_option("--array-parallelism", s.array_parallelism, "the most tasks running at once")
      ->group(slurm)->check(CLI::NonNegativeNumber);
  sub->add_option("--task", a->task, "run line I of OUT/slurm/manifest.tsv (what each array task does; also by hand)")
      ->group(slurm)->check(CLI::NonNegativeNumber);
  on_run(sub, [a, methods] {
    a->methods = split_names(*methods);
    if (a->slurm_options.dry_run && !a->slurm) throw Error("--dry-run goes with --slurm");
    if (a->slurm && a->task >= 0) throw Error("--slurm submits the tasks; --task runs one of them: give one");
    reproduce(*a);
  });
}

}  // namespace dfb::cli

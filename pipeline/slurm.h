// The comparison as Slurm jobs (dfbench reproduce --slurm): one array task per method and seed,
// and an evaluation-and-report job that waits for them (--dependency=afterok). dfbench writes
// the manifest and the sbatch scripts into RUN/slurm/ and hands them to sbatch; Slurm does the
// scheduling, requeueing and preemption. Every task is `dfbench reproduce ... --task I`, which
// runs manifest line I: idempotent through reproduce's stage keys, so a requeued or resubmitted
// task resumes from its last checkpoint, and the same manifest runs without Slurm (by hand, or
// `xargs -P`). docs/cluster.md walks through it.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace dfb {

struct SlurmOptions {
  bool dry_run = false;          // write the files and print the sbatch lines; submit nothing
  std::string partition;         // "" = the cluster's default
  std::string time;              // per task, e.g. "02:00:00"; "" = the partition's limit
  std::string account;
  int64_t gpus_per_task = 0;
  int64_t cpus_per_task = 0;     // also each task's --threads; 0 = Slurm's default (one thread)
  int64_t array_parallelism = 0; // the most tasks running at once (--array=...%N); 0 = no limit
  int64_t signal_seconds = 120;  // SIGUSR1 this long before the time limit: checkpoint and requeue
  std::string sbatch = "sbatch"; // the program that submits
};

// One line of RUN/slurm/manifest.tsv.
struct SlurmTask {
  int64_t index = 0;
  std::string label;       // the method entry
  int64_t seed_index = 0;
  std::string dir;         // its run folder, relative to RUN
  std::string train_key;   // reproduce's key of its training
  bool waits = false;      // samples a model another task trains: in the second array
};

// What --slurm wrote and ran.
struct SlurmSubmission {
  std::string manifest;
  std::vector<std::string> scripts;
  std::vector<std::string> commands;  // the sbatch lines, in order
  std::vector<std::string> job_ids;   // empty with dry_run
};

// Writes RUN/slurm/{manifest.tsv, tasks.sbatch, [tasks-2.sbatch,] final.sbatch} and submits them.
// `command` is the dfbench reproduce command line every job runs (without --task / --jobs).
SlurmSubmission submit_slurm(const std::string& run, const std::vector<SlurmTask>& tasks,
                             const std::vector<std::string>& command, const SlurmOptions& options);

// RUN/slurm/manifest.tsv; throws dfb::Error naming the file when it is missing or malformed.
std::vector<SlurmTask> read_manifest(const std::string& run);

// `dfbench status RUN`: each task done, running, failed (with its log's last lines), stale
// (no log line for `stale_minutes`) or pending, and the final job's state.
std::string format_run_status(const std::string& run, double stale_minutes = 15);

}  // namespace dfb

// Stopping long work cleanly on a signal: Slurm sends SIGUSR1 (sbatch --signal) or SIGTERM
// (preemption, scancel) before it kills a job. While a StopSignalScope lives, those signals only
// set a flag; the training loop checks it after each step, writes a checkpoint and throws
// Stopped, and the CLI exits with kExitStopped so the job script can requeue the task. Outside a
// scope the signals keep their default action (the process ends).
#pragma once
#include <string>

#include "base/error.h"

namespace dfb {

// EX_TEMPFAIL: stopped on request with its work saved; running the same command again resumes.
constexpr int kExitStopped = 75;

class Stopped : public Error {
 public:
  explicit Stopped(const std::string& message) : Error(message) {}
};

// Installs the handlers for SIGUSR1 and SIGTERM; restores the previous ones when destroyed, and
// then raises a signal that arrived but was not consumed (it came after the last check: the
// process ends as the signal would have ended it). A second signal while the flag is already set
// ends the process at once.
class StopSignalScope {
 public:
  StopSignalScope();
  ~StopSignalScope();
  StopSignalScope(const StopSignalScope&) = delete;
  StopSignalScope& operator=(const StopSignalScope&) = delete;
};

// Whether a stop signal arrived since the outermost scope began; its name ("SIGTERM") or "".
bool stop_requested();
std::string stop_signal_name();
// The work stopped as asked (it threw Stopped): the scope's end raises nothing.
void consume_stop_request();

}  // namespace dfb

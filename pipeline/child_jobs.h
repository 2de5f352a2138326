// Running several dfbench processes at once (reproduce --jobs): each child's stdout and
// stderr go to its log file; the parent prints, every interval, one line per running child
// with the last line of its log (its stage, progress, rate and ETA). A child dies with the
// parent (PR_SET_PDEATHSIG), so an interrupted reproduce leaves no process behind.
#pragma once
#include <string>
#include <vector>

namespace dfb {

struct ChildJob {
  std::string name;               // shown in progress lines
  // The program: "/proc/self/exe" is this very program, even if its file was replaced
  // (rebuilt) since it started.
  std::string program = "/proc/self/exe";
  std::vector<std::string> args;  // argv after the program
  std::string log;                // appended to
};

struct ChildResult {
  int exit_code = -1;  // -1: killed by a signal
  double seconds = 0;
};

// Runs every job, at most `parallel` at a time, in order; waits for all of them.
std::vector<ChildResult> run_children(const std::vector<ChildJob>& jobs, int parallel, double interval_seconds = 15.0);

// The last `lines` non-empty lines of a text file ("" when unreadable).
std::string tail_lines(const std::string& path, int lines);
// The last `lines` non-empty lines of a text ('\r' ends a line too: a progress bar's redraws).
std::string tail_of(std::string text, int lines);

struct CapturedRun {
  int exit_code = -1;      // -1 unless it exited
  int signal = 0;          // the signal that ended it, 0 when it exited
  bool timed_out = false;  // killed (SIGKILL) at the deadline
  std::string output;      // its stdout and stderr together, the last 64 KiB
};

// Runs `program` (a path, or a name looked up on PATH) with `args`, waits for it at most
// `timeout_seconds`, then kills it; exit code 127 when it cannot start. It dies with this process
// (PR_SET_PDEATHSIG).
CapturedRun run_captured(const std::string& program, const std::vector<std::string>& args, double timeout_seconds);

}  // namespace dfb

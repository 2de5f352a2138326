// Reading files dfbench did not write, without trusting the HDF5 library with them.
//
// dfbench's own readers check every size and layout a file declares (docs/reliability.md),
// but libhdf5 itself (Debian's 1.10.8) crashes, corrupts memory or loops forever on some
// damaged files before dfbench sees anything: scripts/fuzz.sh finds such files within
// minutes. So a file that comes from outside (a rollout file to evaluate, a dataset or
// checkpoint named on the command line) is first read whole in a child process, by the same
// readers, under a deadline; a crash or a hang there becomes one error line naming the file,
// and this process never opens it until the child read it cleanly.
#pragma once
#include <string>
#include <vector>

namespace dfb {

enum class FileKind { kAuto, kRollout, kDataset, kCheckpoint, kEncoder };

// "auto", "rollout", "dataset", "checkpoint", "encoder"; an unknown name is an Error with a
// suggestion.
FileKind parse_file_kind(const std::string& name);
const char* file_kind_name(FileKind kind);

// Reads `path` whole, in this process, as `kind` (kAuto: from its `format` attribute, or a
// dataset file when it has /frames and none), with every check the pipeline's readers make
// (checksums included). Returns one line that says what it holds; throws dfb::Error on any
// problem.
std::string check_file(const std::string& path, FileKind kind = FileKind::kAuto);

struct IsolatedCheckOptions {
  // Seconds the child may take; 0: DFB_CHECK_TIMEOUT (--check-timeout), else 60 s per file
  // plus 60 s per GiB.
  double timeout_seconds = 0;
  // The program that runs `dfbench check`: this very program by default.
  std::string program = "/proc/self/exe";
};

// check_file() in a child process (`dfbench check --kind KIND PATH`). Throws dfb::Error naming
// the file when the child fails (its error line), dies by a signal (the HDF5 library crashed
// on it), or outlives the deadline (killed). Set DFB_TRUST_INPUTS=1 (--trust-inputs) to skip
// it, e.g. for large files known to be sound.
void check_file_isolated(const std::string& path, FileKind kind, const IsolatedCheckOptions& options = {});

// The same for several files of one kind, in one child process (the deadline is their sum).
void check_files_isolated(const std::vector<std::string>& paths, FileKind kind,
                          const IsolatedCheckOptions& options = {});

// check_files_isolated() for the pairs (path, kind), one child per kind; empty paths are skipped.
void check_inputs(const std::vector<std::pair<std::string, FileKind>>& inputs);

}  // namespace dfb

// Reading files dfbench did not write (see file_check.h).
#include "pipeline/file_check.h"

#include <signal.h>
#include <string.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>

#include "base/error.h"
#include "base/suggest.h"
#include "formats/dataset_file.h"
#include "formats/h5.h"
#include "formats/rollout_file.h"
#include "metrics/encoder.h"
#include "pipeline/child_jobs.h"
#include "tensor/checkpoint.h"

namespace dfb {

namespace {

const std::vector<std::pair<FileKind, std::string>>& kinds() {
  static const std::vector<std::pair<FileKind, std::string>> k = {{FileKind::kAuto, "auto"},
                                                                  {FileKind::kRollout, "rollout"},
                                                                  {FileKind::kDataset, "dataset"},
                                                                  {FileKind::kCheckpoint, "checkpoint"},
                                                                  {FileKind::kEncoder, "encoder"}};
  return k;
}

FileKind detect(const std::string& path) {
  const h5::Reader r(path);
  if (r.has_attr("/", "format")) {
    const std::string f = r.attr_string("/", "format");
    if (f == "dfbench rollouts") return FileKind::kRollout;
    if (f == "dfbench checkpoint") return FileKind::kCheckpoint;
    if (f == "dfbench frame encoder") return FileKind::kEncoder;
    throw Error(path + ": unknown format attribute '" + f + "' (docs/formats.md)");
  }
  if (r.exists("frames")) return FileKind::kDataset;
  throw Error(path + ": neither a dataset file (no /frames) nor a file with a dfbench 'format' attribute "
                     "(docs/formats.md)");
}

std::string clips_text(const Clips& c) {
  return std::to_string(c.count) + " x " + std::to_string(c.length) + " frames of " + std::to_string(c.height) +
         "x" + std::to_string(c.width) + "x" + std::to_string(c.channels);
}

std::string signal_text(int sig) {
  const char* name = sigabbrev_np(sig);
  return "signal " + std::to_string(sig) + (name ? std::string(" (SIG") + name + ")" : "");
}

}  // namespace

FileKind parse_file_kind(const std::string& name) {
  std::vector<std::string> names;
  for (const auto& [k, n] : kinds()) {
    if (n == name) return k;
    names.push_back(n);
  }
  throw Error(unknown_name_message("file kind", name, names));
}

const char* file_kind_name(FileKind kind) {
  for (const auto& [k, n] : kinds())
    if (k == kind) return n.c_str();
  return "?";
}

std::string check_file(const std::string& path, FileKind kind) {
  if (kind == FileKind::kAuto) kind = detect(path);
  switch (kind) {
    case FileKind::kRollout: {
      const RolloutFile f = open_rollout_file(path);
      std::string methods;
      for (const std::string& m : f.methods) {
        const Clips c = read_method_frames(f, m);
        methods += (methods.empty() ? "" : ", ") + m + " (" + std::to_string(c.count) + ")";
      }
      return "rollout file: truth " + clips_text(f.truth) + "; methods " + methods;
    }
    case FileKind::kDataset: {
      const Clips c = read_dataset_file(path);
      return "dataset file: " + clips_text(c) + (c.source.empty() ? "" : ", " + c.source) +
             (c.split.empty() ? "" : ", split " + c.split);
    }
    case FileKind::kCheckpoint: {
      const CheckpointData d = read_checkpoint(path);
      return "checkpoint: step " + std::to_string(d.step) + ", " + std::to_string(d.tensors.size()) +
             " tensors, checksums intact";
    }
    case FileKind::kEncoder: {
      const FrameEncoder e = FrameEncoder::load(path);
      return "encoder: " + e.info().name + ", " + std::to_string(e.info().options.dim) + " features, hash " +
             e.info().hash;
    }
    case FileKind::kAuto: break;
  }
  throw Error(path + ": unknown file kind");
}

void check_files_isolated(const std::vector<std::string>& paths, FileKind kind, const IsolatedCheckOptions& options) {
  const char* trust = std::getenv("DFB_TRUST_INPUTS");
  if (paths.empty() || (trust && std::string(trust) == "1")) return;
  double timeout = options.timeout_seconds;
  if (const char* env = std::getenv("DFB_CHECK_TIMEOUT"); timeout <= 0 && env) timeout = std::atof(env);
  double bytes = 0;
  for (const std::string& p : paths) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(p, ec)) throw Error("no such file: " + p);
    const auto size = std::filesystem::file_size(p, ec);
    if (!ec) bytes += static_cast<double>(size);
  }
  if (timeout <= 0) timeout = 60.0 * static_cast<double>(paths.size()) + 60.0 * bytes / (1024.0 * 1024.0 * 1024.0);
  timeout = std::min(timeout, 1e7);  // about 115 days: the deadline stays representable
  std::vector<std::string> args = {"check", "--kind", file_kind_name(kind), "--"};
  args.insert(args.end(), paths.begin(), paths.end());
  const CapturedRun run = run_captured(options.program, args, timeout);
  if (run.exit_code == 0) return;
  // The child prints "PATH: what it holds" after each file it read; the one after the last such
  // line failed.
  size_t failed = 0;
  for (size_t i = 0; i < paths.size(); ++i)
    if (run.output.rfind(paths[i] + ": ", 0) == 0 || run.output.find("\n" + paths[i] + ": ") != std::string::npos)
      failed = std::min(i + 1, paths.size() - 1);
  const std::string& path = paths[failed];
  if (run.timed_out)
    throw Error(path + ": reading it took more than " + std::to_string(static_cast<int>(timeout)) +
                " s, and was stopped; the HDF5 library loops forever on some damaged files (docs/reliability.md). "
                "A large sound file may need a longer --check-timeout");
  if (run.signal != 0)
    throw Error(path + ": the HDF5 library crashed reading it (" + signal_text(run.signal) +
                " in a child process that reads files first); the file is damaged or made to be hostile "
                "(docs/reliability.md)");
  // Its error line (libhdf5 may print more after it, as the library closes).
  const std::string prefix = "dfbench: error: ";
  std::string line;
  if (const size_t at = run.output.rfind(prefix); at != std::string::npos)
    line = run.output.substr(at + prefix.size(), run.output.find('\n', at) - at - prefix.size());
  else
    line = tail_of(run.output, 1);
  throw Error(line.empty() || run.exit_code != 1
                  ? path + ": could not be read (dfbench check exited " + std::to_string(run.exit_code) + ")"
                  : line);
}

void check_file_isolated(const std::string& path, FileKind kind, const IsolatedCheckOptions& options) {
  check_files_isolated({path}, kind, options);
}

void check_inputs(const std::vector<std::pair<std::string, FileKind>>& inputs) {
  std::map<FileKind, std::vector<std::string>> by_kind;
  for (const auto& [path, kind] : inputs)
    if (!path.empty()) by_kind[kind].push_back(path);
  for (const auto& [kind, paths] : by_kind) check_files_isolated(paths, kind);
}

}  // namespace dfb

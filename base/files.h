// Small file helpers: every file dfbench writes goes to a temporary name first
// and is renamed into place, so an interrupted run never leaves a half file.
#pragma once
#include <string>

namespace dfb {

// "<path>.tmp-<pid>@<host>": where a writer puts a file until it is complete.
std::string temporary_path(const std::string& path);
// Writes `content` to temporary_path(path), fsyncs, renames onto `path`.
// Throws dfb::Error naming the path (e.g. on a full disk).
void write_file_atomic(const std::string& path, const std::string& content);
// Whole file as a string; throws dfb::Error "no such file: P".
std::string read_file(const std::string& path);
// Throws dfb::Error when the file at `path` is larger than read_limit_bytes() (base/limits.h);
// nothing when it cannot be sized (the read that follows reports that).
void check_text_file_size(const std::string& path);
// Creates the directory and its parents; throws dfb::Error naming it on failure.
void make_dirs(const std::string& path);
// Deletes the temporary files ("<name>.tmp-<pid>@<host>") that a killed process of this machine
// left under `dir` (recursively), those whose process is gone; returns how many. Those of other
// machines (a shared file system) are left alone.
int remove_stale_temporaries(const std::string& dir);
// The same for the temporaries of one target file ("<target>.tmp-<pid>" beside it): every
// atomic writer calls it before it starts, so that a writer killed by SIGKILL leaves nothing
// behind once its file is written again.
int remove_stale_temporaries_of(const std::string& target);

}  // namespace dfb

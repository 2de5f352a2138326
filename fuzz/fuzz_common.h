// What every libFuzzer target shares (scripts/fuzz.sh builds and runs them; docs/reliability.md).
// A target hands the fuzzer's bytes to one reader of outside input, the way dfbench reads a
// file. dfb::Error is the expected answer to bad input; anything else (a crash, a sanitizer
// report, std::bad_alloc, another exception escaping) is a finding.
#pragma once
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>

#include "base/error.h"
#include "base/limits.h"

namespace dfb::fuzz {

// "<dir>/dfb-fuzz-<pid>-<name>", dir /dev/shm when it exists: this process's scratch path.
inline std::string scratch_path(const std::string& name) {
  static const std::string dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  return dir + "/dfb-fuzz-" + std::to_string(getpid()) + "-" + name;
}

// Writes `size` bytes to `path` (aborts on failure: the harness, not the reader, failed).
inline void write_file(const std::string& path, const void* data, size_t size) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  if (size && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
}

// A file of this process holding `bytes`, rewritten per input.
inline std::string write_input(const uint8_t* data, size_t size, const std::string& name) {
  const std::string path = scratch_path(name);
  write_file(path, data, size);
  return path;
}

// A folder of this process for inputs made of several files.
inline std::string scratch_dir(const std::string& name) {
  const std::string path = scratch_path(name);
  mkdir(path.c_str(), 0755);
  return path;
}

// The input split at the first "\n---\n": (before, after); after is empty without a separator.
inline std::pair<std::string, std::string> split_input(const uint8_t* data, size_t size) {
  const std::string all(reinterpret_cast<const char*>(data), size);
  const size_t at = all.find("\n---\n");
  if (at == std::string::npos) return {all, ""};
  return {all.substr(0, at), all.substr(at + 5)};
}

// Runs `read`; dfb::Error (a clear refusal) is fine, everything else propagates to the fuzzer.
template <class F>
void expect_only_errors(F read) {
  // Declared sizes above 64 MB are refused, as on a machine with that much memory. libFuzzer's own
  // limit (-rss_limit_mb, 2 GB) must stay clear of what is allowed: HDF5 converts types through
  // buffers several times a dataset's size (a 256 MB limit let an allowed read pass 2 GB).
  set_read_limit_bytes(int64_t{64} << 20);
  try {
    read();
  } catch (const Error&) {
  }
}

}  // namespace dfb::fuzz

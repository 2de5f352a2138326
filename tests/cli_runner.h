// Running the real dfbench binary from a test: its exit code, stdout and stderr, a
// fresh temporary folder per test, and the "one clear error line" check.
#pragma once
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/files.h"
#include "test_paths.h"

namespace dfb {

struct CliResult {
  int code = -1;
  std::string out, err;
  int error_lines() const {
    int n = 0;
    std::istringstream in(err);
    for (std::string line; std::getline(in, line);)
      if (line.find("error") != std::string::npos) ++n;
    return n;
  }
};

inline std::string temp_dir(const std::string& name) {
  std::string dir = testing::TempDir() + "dfb_cli_" + name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// Runs `dfbench ARGS` (one thread, so runs are bitwise comparable) and captures both streams.
inline CliResult dfbench(const std::string& args) {
  static int n = 0;
  const std::string base = testing::TempDir() + "dfb_cli_io_" + std::to_string(getpid()) + "_" + std::to_string(n++);
  const std::string cmd = std::string(DFB_CLI_PATH) + " --threads 1 " + args + " >" + base + ".out 2>" + base + ".err";
  const int status = std::system(cmd.c_str());
  CliResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_file(base + ".out");
  r.err = read_file(base + ".err");
  std::filesystem::remove(base + ".out");
  std::filesystem::remove(base + ".err");
  return r;
}

// Starts `dfbench --threads 1 ARGS` in the background with these environment variables added,
// its output discarded (for tests that kill it or run several at once).
inline pid_t spawn_dfbench(const std::vector<std::string>& args,
                           const std::vector<std::pair<std::string, std::string>>& env = {}) {
  std::fflush(stdout);  // else the child writes this process's buffered output a second time
  const pid_t pid = fork();
  if (pid == 0) {
    for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
    freopen("/dev/null", "w", stdout);
    freopen("/dev/null", "w", stderr);
    std::vector<std::string> a = {DFB_CLI_PATH, "--threads", "1"};
    a.insert(a.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& s : a) argv.push_back(s.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

// Waits for `pid` until `deadline`; true (and its exit status in `status`) when it ended by then.
inline bool wait_until(pid_t pid, std::chrono::steady_clock::time_point deadline, int* status) {
  while (std::chrono::steady_clock::now() < deadline) {
    if (waitpid(pid, status, WNOHANG) == pid) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return waitpid(pid, status, WNOHANG) == pid;
}

inline std::string write_text(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
  return path;
}

#define EXPECT_ONE_ERROR(result, needle)                                                    \
  do {                                                                                      \
    const CliResult& r_ = (result);                                                         \
    EXPECT_NE(r_.code, 0) << r_.err;                                                        \
    EXPECT_EQ(r_.error_lines(), 1) << r_.err;                                               \
    EXPECT_NE(r_.err.find(needle), std::string::npos) << "expected '" << needle << "' in: " << r_.err; \
  } while (0)

}  // namespace dfb

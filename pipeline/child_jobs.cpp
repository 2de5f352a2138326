// Child processes: reproduce --jobs, and files read first in a child (see child_jobs.h).
#include "pipeline/child_jobs.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "base/error.h"
#include "base/progress.h"

namespace dfb {

namespace {

// Starts `program` (a path, or a name looked up on PATH) with `args`, its stdout and stderr on
// `out_fd`, dying by `death_signal` when this process ends. Throws `fork_error` when it cannot
// fork; a program that cannot start exits 127 after writing `cannot_start` on `out_fd`.
pid_t start_child(const std::string& program, const std::vector<std::string>& args, int out_fd, int death_signal,
                  const std::string& fork_error, const char* cannot_start) {
  const size_t slash = program.rfind('/');
  std::vector<std::string> argv_s = {program == "/proc/self/exe" ? "dfbench" : program.substr(slash + 1)};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : argv_s) argv.push_back(s.data());
  argv.push_back(nullptr);
  const pid_t parent = getpid();
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = fork();
  if (pid < 0) throw Error(fork_error);
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, death_signal);
    if (getppid() != parent) _exit(127);  // the parent is already gone
    dup2(out_fd, STDOUT_FILENO);
    dup2(out_fd, STDERR_FILENO);
    if (out_fd > STDERR_FILENO) close(out_fd);
    execvp(program.c_str(), argv.data());
    (void)!write(STDERR_FILENO, cannot_start, std::strlen(cannot_start));
    _exit(127);
  }
  return pid;
}

pid_t spawn(const ChildJob& job) {
  const int fd = open(job.log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd < 0) throw Error("reproduce: cannot open the log " + job.log + " for writing");
  try {
    const pid_t pid = start_child(job.program, job.args, fd, SIGTERM, "reproduce: fork failed for " + job.name,
                                  "reproduce: cannot start the child program (see ChildJob::program); use --jobs 1\n");
    close(fd);
    return pid;
  } catch (...) {
    close(fd);
    throw;
  }
}

std::string last_line(const std::string& path) {
  const std::string t = tail_lines(path, 1);
  return t.empty() ? "starting" : t;
}

}  // namespace

std::string tail_lines(const std::string& path, int lines) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  const std::streamoff from = size > 8192 ? size - 8192 : 0;
  in.seekg(from);
  return tail_of(std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()), lines);
}

std::string tail_of(std::string text, int lines) {
  for (char& ch : text)
    if (ch == '\r') ch = '\n';
  std::vector<std::string> all;
  std::istringstream s(text);
  for (std::string line; std::getline(s, line);)
    if (!line.empty()) all.push_back(line);
  std::string out;
  for (size_t i = all.size() > static_cast<size_t>(lines) ? all.size() - lines : 0; i < all.size(); ++i)
    out += (out.empty() ? "" : "\n") + all[i];
  return out;
}

CapturedRun run_captured(const std::string& program, const std::vector<std::string>& args, double timeout_seconds) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw Error("cannot create a pipe for a child process");
  pid_t pid = -1;
  try {
    pid = start_child(program, args, fds[1], SIGKILL, "fork failed: cannot start a child process",
                      "dfbench: error: cannot start the child program (not installed, or not on PATH)\n");
  } catch (...) {
    close(fds[0]);
    close(fds[1]);
    throw;
  }
  close(fds[1]);
  fcntl(fds[0], F_SETFL, O_NONBLOCK);
  CapturedRun run;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<int64_t>(timeout_seconds * 1000));
  int status = 0;
  bool reaped = false;
  char buf[4096];
  while (!reaped) {
    for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) {
      run.output.append(buf, static_cast<size_t>(n));
      if (run.output.size() > 65536) run.output.erase(0, run.output.size() - 65536);
    }
    const pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) {
      reaped = true;
    } else if (w < 0 && errno != EINTR) {  // e.g. SIGCHLD ignored: the child cannot be waited for
      kill(pid, SIGKILL);
      close(fds[0]);
      throw Error("cannot wait for a child process: " + std::string(std::strerror(errno)));
    } else if (std::chrono::steady_clock::now() >= deadline) {
      kill(pid, SIGKILL);
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      run.timed_out = true;
      reaped = true;
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) {
    run.output.append(buf, static_cast<size_t>(n));
    if (run.output.size() > 65536) run.output.erase(0, run.output.size() - 65536);
  }
  close(fds[0]);
  if (WIFEXITED(status)) run.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status) && !run.timed_out) run.signal = WTERMSIG(status);
  return run;
}

std::vector<ChildResult> run_children(const std::vector<ChildJob>& jobs, int parallel, double interval_seconds) {
  std::vector<ChildResult> results(jobs.size());
  std::vector<pid_t> pids(jobs.size(), 0);
  std::vector<std::chrono::steady_clock::time_point> started(jobs.size());
  size_t next = 0, running = 0, done = 0;
  auto last_report = std::chrono::steady_clock::now();
  const auto t0 = last_report;
  while (done < jobs.size()) {
    while (running < static_cast<size_t>(std::max(1, parallel)) && next < jobs.size()) {
      pids[next] = spawn(jobs[next]);
      started[next] = std::chrono::steady_clock::now();
      std::printf("[%zu/%zu] %s: started (log %s)\n", next + 1, jobs.size(), jobs[next].name.c_str(),
                  jobs[next].log.c_str());
      std::fflush(stdout);
      ++next;
      ++running;
    }
    int status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      for (size_t i = 0; i < jobs.size(); ++i) {
        if (pids[i] != pid) continue;
        results[i].exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        results[i].seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started[i]).count();
        pids[i] = 0;
        --running;
        ++done;
        std::printf("[%zu/%zu] %s: %s in %s\n", i + 1, jobs.size(), jobs[i].name.c_str(),
                    results[i].exit_code == 0 ? "done" : "FAILED", format_seconds(results[i].seconds).c_str());
        std::fflush(stdout);
      }
      continue;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const auto now = std::chrono::steady_clock::now();
    if (std::chrono::duration<double>(now - last_report).count() >= interval_seconds) {
      last_report = now;
      for (size_t i = 0; i < jobs.size(); ++i)
        if (pids[i] > 0)
          std::printf("[%zu/%zu %s, %s] %s\n", i + 1, jobs.size(), jobs[i].name.c_str(),
                      format_seconds(std::chrono::duration<double>(now - t0).count()).c_str(),
                      last_line(jobs[i].log).c_str());
      std::fflush(stdout);
    }
  }
  return results;
}

}  // namespace dfb

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

pid_t spawn(const ChildJob& job) {
  const int fd = open(job.log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd < 0) throw Error("reproduce: cannot open the log " + job.log + " for writing");
  std::vector<std::string> argv_s = {"dfbench"};
  argv_s.insert(argv_s.end(), job.args.begin(), job.args.end());
  std::vector<char*> argv;
  for (std::string& s : argv_s) argv.push_back(s.data());
  argv.push_back(nullptr);
  const pid_t parent = getpid();
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = fork();
  if (pid < 0) {
    close(fd);
    throw Error("reproduce: fork failed for " + job.name);
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(127);  // the parent is already gone
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    close(fd);
    execv(job.program.c_str(), argv.data());
    const char msg[] = "reproduce: cannot start the child program (see ChildJob::program); use --jobs 1\n";
    (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
    _exit(127);
  }
  close(fd);
  return pid;
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
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    throw Error("fork failed: cannot start a child process");
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    dup2(fds[1], STDOUT_FILENO);
    dup2(fds[1], STDERR_FILENO);
    execvp(program.c_str(), argv.data());
    const char msg[] = "dfbench: error: cannot start the child program (not installed, or not on PATH)\n";
    (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
    _exit(127);
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

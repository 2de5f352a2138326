// Faults in every stage of `dfbench reproduce` (docs/reliability.md): SIGKILL as each stage
// begins; a full disk while the data, the training, the sampling, the evaluation and the report
// are written gives one clear error,
// leaves no partial file, and a rerun with space finishes as if nothing had happened. The full
// disk is a file size limit (RLIMIT_FSIZE through `ulimit -f`, with SIGXFSZ ignored, so a write
// fails with EFBIG as it fails with ENOSPC on a full disk), and, where root may mount one, a
// small tmpfs filled up (ENOSPC).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <signal.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "base/files.h"
#include "base/error.h"
#include "formats/rollout_file.h"
#include "reports/report_data.h"
#include "tests/cli_runner.h"
#include "tests/tiny_models.h"

namespace dfb {
namespace {

namespace fs = std::filesystem;

// `dfbench ARGS` with writes limited to `kb` KiB per file (0: no limit).
CliResult dfbench_limited(int kb, const std::string& args) {
  const std::string err = testing::TempDir() + "dfb_faults_" + std::to_string(getpid()) + ".err";
  std::string inner = std::string("exec ") + DFB_CLI_PATH + " --threads 1 " + args;
  if (kb > 0) inner = "trap '' XFSZ; ulimit -f " + std::to_string(kb) + "; " + inner;
  const int status = std::system(("bash -c \"" + inner + "\" >/dev/null 2>" + err).c_str());
  CliResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.err = read_file(err);
  fs::remove(err);
  return r;
}

bool has_temporary_files(const std::string& dir) {
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.path().filename().string().find(".tmp-") != std::string::npos) return true;
  return false;
}

// `run` finished as the uninterrupted `whole` did: its report, the same rollouts and metrics.
void expect_finished_like(const std::string& run, const std::string& whole) {
  EXPECT_TRUE(fs::exists(run + "/report/index.html"));
  EXPECT_EQ(read_rollout_file(run + "/teacher_forcing/samples.h5").generated.frames,
            read_rollout_file(whole + "/teacher_forcing/samples.h5").generated.frames);
  const nlohmann::json a = nlohmann::json::parse(read_file(whole + "/metrics.json"));
  const nlohmann::json b = nlohmann::json::parse(read_file(run + "/metrics.json"));
  EXPECT_EQ(a["metrics"], b["metrics"]);
}

// Runs the tiny comparison into `run` by `attempt(kb, args)`, which runs `dfbench ARGS` with the
// disk full at `kb` KiB (0: room), stage by stage: each limit lets the stages before it finish
// and stops the next one at its first write past the limit (sizes in the tiny run: data 22 kB,
// checkpoints 1 MB, rollouts 38 kB, the encoder 60 kB, metrics 52 kB, the report's page
// 376 kB); each rerun resumes where the last one stopped. The stages after training write less
// than a checkpoint, so they are reached by finishing the run and removing their outputs.
// Checks one clear error per stage, no partial file, and a last run equal to `whole`.
using Attempt = std::function<CliResult(int kb, const std::string& args)>;
const std::string kTinyArgs = "reproduce --preset tiny --methods teacher_forcing --set train.steps=6";

void full_disk_in_each_stage(const std::string& run, const std::string& whole, const Attempt& attempt) {
  const std::string args = kTinyArgs + " --out " + run;
  auto fails_cleanly = [&](int kb, const std::string& stage, const std::vector<std::string>& files) {
    const CliResult r = attempt(kb, args);
    EXPECT_NE(r.code, 0) << stage << " under " << kb << " KiB finished";
    EXPECT_EQ(r.error_lines(), 1) << stage << ":\n" << r.err;
    EXPECT_NE(r.err.find("cannot write"), std::string::npos) << stage << ":\n" << r.err;
    bool named = false;
    for (const std::string& f : files) named = named || r.err.find(f) != std::string::npos;
    EXPECT_TRUE(named) << stage << ": the error names none of the stage's files:\n" << r.err;
    EXPECT_FALSE(has_temporary_files(run)) << stage << ": a partial file was left behind";
  };
  fails_cleanly(8, "data", {"/data/"});
  fails_cleanly(64, "train", {"/checkpoints/step_"});
  ASSERT_EQ(attempt(0, args).code, 0);
  for (const char* f : {"teacher_forcing/samples.h5", "metrics.json", "curves.csv", "report"}) fs::remove_all(run + "/" + f);
  fails_cleanly(32, "sample", {"/samples.h5"});
  fails_cleanly(48, "evaluate", {"/encoder.h5", "/metrics.json", "/curves.csv"});
  fails_cleanly(128, "report", {"/report/"});
  const CliResult done = attempt(0, args);
  ASSERT_EQ(done.code, 0) << done.err;
  expect_finished_like(run, whole);
}

// A file size limit (RLIMIT_FSIZE) stands for the full disk: no root needed.
TEST(Faults, AFullDiskInEachStageGivesOneErrorAndARerunFinishesAsIfNothingHappened) {
  const std::string dir = temp_dir("faults_disk");
  ASSERT_EQ(dfbench_limited(0, kTinyArgs + " --out " + dir + "/whole").code, 0);
  full_disk_in_each_stage(dir + "/run", dir + "/whole",
                          [](int kb, const std::string& args) { return dfbench_limited(kb, args); });
}

// A real full disk: the run on a 64 MB tmpfs that a filler file fills up to `kb` KiB of free
// space (ENOSPC). Needs root to mount; skipped without.
TEST(Faults, ARealFullTmpfsInEachStageGivesOneErrorAndARerunFinishesAsIfNothingHappened) {
  if (geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root";
  const std::string dir = temp_dir("faults_tmpfs"), disk = dir + "/disk";
  fs::create_directories(disk);
  if (std::system(("mount -t tmpfs -o size=64m tmpfs " + disk + " 2>/dev/null").c_str()) != 0)
    GTEST_SKIP() << "this machine does not let root mount a tmpfs (a container without CAP_SYS_ADMIN?)";
  struct Unmount {
    std::string at;
    ~Unmount() {
      if (std::system(("umount " + at).c_str())) {
      }
    }
  } unmount{disk};
  ASSERT_EQ(dfbench_limited(0, kTinyArgs + " --out " + dir + "/whole").code, 0);
  const std::string filler = disk + "/filler";
  auto leave_free = [&](int kb) {
    fs::remove(filler);
    if (kb == 0) return;
    struct statvfs st {};
    ASSERT_EQ(statvfs(disk.c_str(), &st), 0);
    const uint64_t free = static_cast<uint64_t>(st.f_bavail) * st.f_frsize, keep = static_cast<uint64_t>(kb) * 1024;
    ASSERT_GT(free, keep);
    std::ofstream f(filler, std::ios::binary);
    const std::string block(1 << 16, '\0');
    for (uint64_t left = free - keep; left > 0;) {
      const uint64_t n = std::min<uint64_t>(left, block.size());
      f.write(block.data(), static_cast<std::streamsize>(n));
      left -= n;
    }
  };
  full_disk_in_each_stage(disk + "/run", dir + "/whole", [&](int kb, const std::string& args) {
    leave_free(kb);
    const CliResult r = dfbench_limited(0, args);
    if (kb > 0) {
      EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << r.err;
    }
    return r;
  });
}

// SIGKILL as each stage of reproduce has begun: the moment a stage's first file appears, the
// process is killed (every kill lands while it runs), and the next attempt goes on from there.
// After the last, nothing half-written is left and the result equals an uninterrupted run's.
TEST(Faults, SigkillInEachStageOfReproduceResumesToTheSameResult) {
  const std::string dir = temp_dir("faults_kill");
  const std::vector<std::string> args = {"reproduce", "--preset", "tiny", "--methods", "teacher_forcing",
                                         "--set", "train.steps=6", "--jobs", "1"};
  std::string whole_args;
  for (const std::string& a : args) whole_args += " " + a;
  ASSERT_EQ(dfbench_limited(0, whole_args + " --out " + dir + "/whole").code, 0);

  const std::string run = dir + "/run";
  // What each file's appearance tells: the stage that runs next.
  const std::vector<std::pair<std::string, std::string>> markers = {
      {"data/eval.h5", "training"},
      {"teacher_forcing/checkpoints/step_000003.h5", "training, after a checkpoint"},
      {"teacher_forcing/samples.h5", "evaluation"},
      {"encoder.h5", "evaluation, after the encoder"},
      {"metrics.json", "report"},
      {"report/plots/training.svg", "report, among its plots"}};
  for (const auto& [marker, stage] : markers) {
    std::vector<std::string> a = args;
    a.insert(a.end(), {"--out", run});
    const pid_t pid = spawn_dfbench(a);
    ASSERT_GE(pid, 0);
    int status = 0;
    bool ended = false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (!fs::exists(run + "/" + marker) && !(ended = waitpid(pid, &status, WNOHANG) == pid) &&
           std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    if (!ended) ended = waitpid(pid, &status, WNOHANG) == pid;
    EXPECT_FALSE(ended) << stage << ": the run ended before the kill (status " << status << ")";
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    EXPECT_TRUE(fs::exists(run + "/" + marker)) << stage;
  }
  const CliResult done = dfbench_limited(0, whole_args + " --out " + run);
  ASSERT_EQ(done.code, 0) << done.err;
  EXPECT_FALSE(has_temporary_files(run));
  expect_finished_like(run, dir + "/whole");
}

// Files that crash libhdf5 or send it into an endless loop (found by scripts/fuzz.sh, kept in
// tests/fuzz_cases/libhdf5/) are read first in a child process: each costs one error line that
// names the file, never the process; sound files beside them are not blamed.
TEST(HostileInput, FilesThatCrashOrHangTheHdf5LibraryCostOneErrorLine) {
  const std::string dir = temp_dir("hostile_hdf5");
  const std::string cases = std::string(DFB_SOURCE_DIR) + "/tests/fuzz_cases/libhdf5/";
  Rollouts r;
  r.method = "m";
  r.context = 1;
  r.t_train = 2;
  for (Clips* c : {&r.generated, &r.truth}) {
    c->count = 2, c->length = 4, c->height = 4, c->width = 4, c->channels = 1;
    c->frames.assign(2 * 4 * 16, 7);
  }
  const std::string good = dir + "/good.h5";
  write_rollout_file(good, r);
  const CliResult ok = dfbench("check " + good);
  ASSERT_EQ(ok.code, 0) << ok.err;
  EXPECT_NE(ok.out.find("rollout file: truth 2 x 4 frames of 4x4x1; methods m (2)"), std::string::npos) << ok.out;

  for (const char* name : {"rollout-segv.h5", "rollout-hang.h5", "dataset-segv.h5"}) {
    const std::string bad = cases + name;
    const bool dataset = std::string(name).rfind("dataset", 0) == 0;
    const auto start = std::chrono::steady_clock::now();
    const CliResult res = dataset ? dfbench("--check-timeout 3 evaluate --samples " + good + " --real " + bad +
                                            " --out " + dir + "/eval")
                                  : dfbench("--check-timeout 3 evaluate --samples " + good + " " + bad + " --out " +
                                            dir + "/eval");
    EXPECT_EQ(res.code, 1) << name << ": " << res.err;  // an error, not a signal
    EXPECT_EQ(res.error_lines(), 1) << name << ": " << res.err;
    EXPECT_EQ(res.err.rfind("dfbench: error: " + bad + ": ", 0), 0u) << name << ": " << res.err;
    EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 30) << name;
    EXPECT_FALSE(fs::exists(dir + "/eval/metrics.json")) << name;
    const CliResult shapes = dfbench("--check-timeout 3 shapes --samples " + bad);
    EXPECT_EQ(shapes.code, 1) << name << ": " << shapes.err;
    EXPECT_EQ(shapes.error_lines(), 1) << name << ": " << shapes.err;
  }
}

// Strings that become paths are checked where they are read: a method label names a folder, a
// metric name names the report's plot files.
TEST(HostileInput, LabelsThatCannotNameAFolderAndMetricNamesWithPathsAreRefused) {
  for (const char* label : {"../x", "a/b", ".hidden", "tab\\tinside"}) {
    const std::string set = std::string("methods=[{\"name\": \"teacher_forcing\", \"label\": \"") + label + "\"}]";
    try {
      tiny_config({set});
      ADD_FAILURE() << "label " << label << " was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("cannot name a folder"), std::string::npos) << e.what();
    }
  }
  EXPECT_NO_THROW(tiny_config({"methods=[{\"name\": \"teacher_forcing\", \"label\": \"<b>tf<b 's> & co\"}]"}));

  const std::string dir = temp_dir("hostile_metric");
  write_text(dir + "/metrics.json", R"({"format": "dfbench metrics", "inputs": {"samples": [], "context": 1, "t_train": 2,
    "length": 4}, "methods": ["m"], "metrics": {"../../escape": {"methods": {}}}})");
  write_text(dir + "/curves.csv", "method,metric,t,mean,lo,hi\n");
  try {
    read_report_data({dir});
    ADD_FAILURE() << "a metric name with a path was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("the metric name '../../escape' must be"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace dfb

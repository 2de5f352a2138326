// Past one machine (docs/cluster.md): two Gloo processes train like one with the same global
// batch; a training stopped by Slurm's signal checkpoints and exits 75; the Slurm manifest runs by hand (--task) like a local reproduce; and, where Slurm is
// installed (scripts/setup.sh), the tiny preset through a real one-node cluster
// (scripts/slurm-local.sh) equals a local reproduce, also after one task is cancelled halfway
// and the comparison is submitted again. The Slurm.* tests carry the CTest label "slurm".
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/files.h"
#include "formats/rollout_file.h"
#include "tensor/checkpoint.h"
#include "tests/cli_runner.h"

namespace dfb {
namespace {

namespace fs = std::filesystem;

// Every file of a run folder that the comparison itself makes, by its place in the folder
// (logs, the Slurm files, locks and the outcome records of child processes left out).
std::set<std::string> made_files(const std::string& run) {
  std::set<std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(run)) {
    if (!e.is_regular_file()) continue;
    const std::string rel = e.path().lexically_relative(run).string();
    const std::string name = e.path().filename().string();
    if (rel.rfind("slurm/", 0) == 0 || name == ".reproduce.lock" || name == ".lock" || name == "reproduce.log" ||
        name == "outcome.json")
      continue;
    files.insert(rel);
  }
  return files;
}

// The same files, the same rollouts, the same metrics. `extra_checkpoints`: `b` may also keep the
// checkpoint a stop signal made (checkpoints are compared by the rollouts made from them).
void expect_same_comparison(const std::string& a, const std::string& b, const std::vector<std::string>& methods,
                            bool extra_checkpoints = false) {
  std::set<std::string> fa = made_files(a), fb = made_files(b);
  if (extra_checkpoints)
    for (auto it = fb.begin(); it != fb.end();)
      it = it->find("/checkpoints/") != std::string::npos && !fa.count(*it) ? fb.erase(it) : std::next(it);
  EXPECT_EQ(fa, fb);
  for (const std::string& m : methods)
    EXPECT_EQ(read_rollout_file(a + "/" + m + "/samples.h5").generated.frames,
              read_rollout_file(b + "/" + m + "/samples.h5").generated.frames)
        << m;
  const nlohmann::json x = nlohmann::json::parse(read_file(a + "/metrics.json"));
  const nlohmann::json y = nlohmann::json::parse(read_file(b + "/metrics.json"));
  EXPECT_EQ(x["metrics"], y["metrics"]);
}

TEST(Cluster, ASignalStopsTrainingWithACheckpointAndExit75AndResumeFinishesTheSame) {
  const std::string dir = temp_dir("stop_signal");
  const std::vector<std::string> sets = {"--set", "train.steps=400", "--set", "train.checkpoint_every=1000", "--set",
                                         "train.log_every=5"};
  std::vector<std::string> whole = {"train", "--config", "tiny", "--out", dir + "/whole"};
  whole.insert(whole.end(), sets.begin(), sets.end());
  int status = 0;
  ASSERT_TRUE(wait_until(spawn_dfbench(whole), std::chrono::steady_clock::now() + std::chrono::seconds(300), &status));

  std::vector<std::string> args = {"train", "--config", "tiny", "--out", dir + "/stopped"};
  args.insert(args.end(), sets.begin(), sets.end());
  const pid_t pid = spawn_dfbench(args);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  // Once it has logged a step, training runs (and the handler is in place).
  while ((!fs::exists(dir + "/stopped/train_log.jsonl") ||
          read_file(dir + "/stopped/train_log.jsonl").find("\"loss\"") == std::string::npos) &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  kill(pid, SIGUSR1);
  ASSERT_TRUE(wait_until(pid, std::chrono::steady_clock::now() + std::chrono::seconds(60), &status));
  ASSERT_TRUE(WIFEXITED(status)) << "the signal killed it";
  EXPECT_EQ(WEXITSTATUS(status), 75);
  const std::string latest = latest_checkpoint(dir + "/stopped");
  ASSERT_FALSE(latest.empty()) << "no checkpoint written on the signal (checkpoint_every is 1000)";
  const int64_t at = read_checkpoint(latest).step;
  EXPECT_GT(at, 0);
  EXPECT_LT(at, 400) << "training finished before the signal; make it longer";

  const CliResult resumed = dfbench("train --out " + dir + "/stopped --resume");
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  const CheckpointData a = read_checkpoint(latest_checkpoint(dir + "/whole"));
  const CheckpointData b = read_checkpoint(latest_checkpoint(dir + "/stopped"));
  EXPECT_EQ(b.step, 400);
  for (const auto& [name, t] : a.tensors) EXPECT_TRUE(torch::equal(t, b.tensors.at(name))) << name;
}

// A free TCP port on the loopback (for the rendezvous of the test's processes).
int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t n = sizeof a;
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n) == 0;
  close(fd);
  return ok ? ntohs(a.sin_port) : 29500;
}

// `dfbench --threads 1 ARGS` as rank `rank` of `size`, with the variables torchrun sets.
pid_t spawn_rank(const std::vector<std::string>& args, int rank, int size, int port) {
  return spawn_dfbench(args, {{"WORLD_SIZE", std::to_string(size)},
                              {"RANK", std::to_string(rank)},
                              {"LOCAL_RANK", std::to_string(rank)},
                              {"MASTER_ADDR", "127.0.0.1"},
                              {"MASTER_PORT", std::to_string(port)}});
}

// Runs `dfbench ARGS` as ranks 0 and 1 of a world of two on the loopback; both must succeed.
void run_two_ranks(const std::vector<std::string>& args) {
  const int port = free_port();
  const pid_t r0 = spawn_rank(args, 0, 2, port), r1 = spawn_rank(args, 1, 2, port);
  int status = 0;
  for (const pid_t r : {r0, r1}) {
    if (!wait_until(r, std::chrono::steady_clock::now() + std::chrono::seconds(300), &status)) {
      kill(r0, SIGKILL);
      kill(r1, SIGKILL);
      FAIL() << "the two processes did not finish";
    }
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "rank " << (r == r0 ? 0 : 1);
  }
}

// The largest relative difference ‖a − b‖ / ‖a‖ (L2) of any weight tensor of two checkpoints.
double relative_difference(const CheckpointData& a, const CheckpointData& b) {
  double worst = 0;
  for (const auto& [name, t] : a.tensors) {
    if (name.rfind("optim/", 0) == 0) continue;  // Adam's moments: compared through the weights they move
    const double scale = std::max(t.norm().item<double>(), 1e-12);
    worst = std::max(worst, (t - b.tensors.at(name)).norm().item<double>() / scale);
  }
  return worst;
}

// Two Gloo processes on the loopback, each with half of every global batch of 4 clips, against
// one process with the whole batch. Not bit-equal: the shares' gradients are summed by Gloo
// after each process reduced its own rows, another order of float additions than one process
// reducing all rows (and the loss is summed from two partial sums). Then a checkpoint written at
// world size 2 is resumed by one process, and continues as the uninterrupted runs do.
TEST(Cluster, TwoGlooProcessesTrainLikeOneWithTheSameGlobalBatchAndResumeAlone) {
  const std::string dir = temp_dir("gloo");
  const std::vector<std::string> sets = {"--set", "train.steps=12", "--set", "train.batch=4", "--set",
                                         "train.checkpoint_every=6", "--set", "train.validate_every=0"};
  auto args = [&](const std::string& out) {
    std::vector<std::string> a = {"train", "--config", "tiny", "--out", out};
    a.insert(a.end(), sets.begin(), sets.end());
    return a;
  };
  int status = 0;
  const auto limit = [] { return std::chrono::steady_clock::now() + std::chrono::seconds(300); };
  ASSERT_TRUE(wait_until(spawn_dfbench(args(dir + "/one")), limit(), &status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  run_two_ranks(args(dir + "/two"));

  const CheckpointData one = read_checkpoint(checkpoint_path(dir + "/one", 12));
  const CheckpointData two = read_checkpoint(checkpoint_path(dir + "/two", 12));
  const double d = relative_difference(one, two);
  std::printf("world size 2 against 1 after 12 steps: largest relative difference %.3g\n", d);
  EXPECT_LT(d, 1e-5);

  // World size 2 until step 6, then one process from that checkpoint to step 12.
  ASSERT_EQ(std::system(("cp -a " + dir + "/two " + dir + "/resumed").c_str()), 0);
  fs::remove(checkpoint_path(dir + "/resumed", 12));
  const CliResult resumed = dfbench("train --out " + dir + "/resumed --resume");
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  const CheckpointData after = read_checkpoint(checkpoint_path(dir + "/resumed", 12));
  EXPECT_LT(relative_difference(two, after), 1e-5);
  EXPECT_LT(relative_difference(one, after), 1e-5);

  // A world of one (torchrun --nproc-per-node 1 sets WORLD_SIZE=1): the collective path on its own.
  const pid_t alone = spawn_dfbench(args(dir + "/world1"), {{"WORLD_SIZE", "1"},
                                                             {"RANK", "0"},
                                                             {"MASTER_ADDR", "127.0.0.1"},
                                                             {"MASTER_PORT", std::to_string(free_port())}});
  ASSERT_TRUE(wait_until(alone, limit(), &status));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  const double d1 = relative_difference(one, read_checkpoint(checkpoint_path(dir + "/world1", 12)));
  std::printf("world size 1 (the collective path) against no world: largest relative difference %.3g\n", d1);
  EXPECT_LT(d1, 1e-5);
  EXPECT_NE(read_file(dir + "/two/train_log.jsonl"), "");
}

// reproduce over two Gloo processes: every training spreads over both, rank 0 samples,
// evaluates and reports alone. The same files as one process makes, with weights within float
// reordering of its.
TEST(Cluster, ADataParallelReproduceTrainsEveryMethodOverTwoProcesses) {
  const std::string dir = temp_dir("gloo_reproduce");
  auto args = [&](const std::string& out) {
    return std::vector<std::string>{"reproduce", "--preset", "tiny", "--methods", "teacher_forcing,diffusion_forcing",
                                    "--set", "train.steps=12", "--set", "train.batch=4", "--out", out};
  };
  int status = 0;
  const auto limit = [] { return std::chrono::steady_clock::now() + std::chrono::seconds(300); };
  ASSERT_TRUE(wait_until(spawn_dfbench(args(dir + "/one")), limit(), &status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  run_two_ranks(args(dir + "/two"));
  EXPECT_EQ(made_files(dir + "/one"), made_files(dir + "/two"));
  for (const char* m : {"teacher_forcing", "diffusion_forcing"}) {
    const std::string a = dir + "/one/" + m, b = dir + "/two/" + m;
    EXPECT_LT(relative_difference(read_checkpoint(checkpoint_path(a, 12)), read_checkpoint(checkpoint_path(b, 12))),
              1e-5)
        << m;
  }
  EXPECT_TRUE(fs::exists(dir + "/two/report/index.html"));
}

const std::string kMethods = "teacher_forcing,fifo_diffusion,full_sequence";

TEST(Cluster, TheSlurmManifestRunsByHandLikeALocalReproduce) {
  const std::string dir = temp_dir("manifest");
  const std::string common = "reproduce --preset tiny --methods " + kMethods + " --set train.steps=6 --out ";
  ASSERT_EQ(dfbench(common + dir + "/local --jobs 1").code, 0);

  const CliResult dry = dfbench(common + dir + "/hand --slurm --dry-run --partition cpu --array-parallelism 2");
  ASSERT_EQ(dry.code, 0) << dry.err;
  EXPECT_NE(dry.out.find("JOB1=$('sbatch' --parsable '"), std::string::npos) << dry.out;
  EXPECT_NE(dry.out.find("\"--dependency=afterok:$JOB1:$JOB2\""), std::string::npos) << dry.out;
  const std::string tasks = read_file(dir + "/hand/slurm/tasks.sbatch");
  EXPECT_NE(tasks.find("#SBATCH --array=0,1%2\n"), std::string::npos) << tasks;
  EXPECT_NE(tasks.find("#SBATCH --partition=cpu\n"), std::string::npos) << tasks;
  EXPECT_NE(read_file(dir + "/hand/slurm/tasks-2.sbatch").find("#SBATCH --array=2%2\n"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir + "/hand/data")) << "a dry run does no work";

  CliResult st = dfbench("status " + dir + "/hand");
  ASSERT_EQ(st.code, 0) << st.err;
  EXPECT_NE(st.out.find("3 task(s): 3 pending"), std::string::npos) << st.out;
  for (int i = 0; i < 3; ++i) {
    const CliResult t = dfbench(common + dir + "/hand --task " + std::to_string(i));
    ASSERT_EQ(t.code, 0) << "task " << i << ": " << t.err;
  }
  EXPECT_NE(dfbench(common + dir + "/hand --task 3").err.find("--task 3: no such line"), std::string::npos);
  st = dfbench("status " + dir + "/hand");
  EXPECT_NE(st.out.find("3 task(s): 3 done"), std::string::npos) << st.out;
  EXPECT_NE(st.out.find("final    pending"), std::string::npos) << st.out;
  const CliResult fin = dfbench(common + dir + "/hand --jobs 1");
  ASSERT_EQ(fin.code, 0) << fin.err;
  EXPECT_EQ(fin.out.find("train: resuming"), std::string::npos) << "the final job trained:\n" << fin.out;
  expect_same_comparison(dir + "/local", dir + "/hand", {"teacher_forcing", "fifo_diffusion", "full_sequence"});
}

// A one-node cluster for one test (scripts/slurm-local.sh), stopped when it ends.
class LocalSlurm {
 public:
  LocalSlurm() : dir_("/tmp/dfb-slurm-" + std::to_string(getpid())) {
    const std::string out = dir_ + ".env";
    ok_ = std::system(("'" + std::string(DFB_SOURCE_DIR) + "/scripts/slurm-local.sh' start " + dir_ + " >" + out).c_str()) == 0;
    if (ok_) setenv("SLURM_CONF", (dir_ + "/slurm.conf").c_str(), 1);
  }
  ~LocalSlurm() {
    if (std::system(("'" + std::string(DFB_SOURCE_DIR) + "/scripts/slurm-local.sh' stop " + dir_ + " 2>/dev/null").c_str())) {
    }
    fs::remove_all(dir_);
    fs::remove(dir_ + ".env");
  }
  bool ok() const { return ok_; }

 private:
  std::string dir_;
  bool ok_ = false;
};

bool slurm_installed() { return fs::exists("/usr/sbin/slurmctld") && fs::exists("/usr/sbin/munged"); }

// Waits until the final job's log says it is done; false after `seconds`.
bool wait_for_final(const std::string& run, int seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  const std::string log = run + "/slurm/logs/final.log";
  while (std::chrono::steady_clock::now() < deadline) {
    if (fs::exists(log) && read_file(log).find(": done in") != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  return false;
}

std::vector<std::string> job_ids(const std::string& out) {
  std::vector<std::string> ids;
  for (size_t at = out.find("# job "); at != std::string::npos; at = out.find("# job ", at + 1))
    ids.push_back(out.substr(at + 6, out.find('\n', at) - at - 6));
  return ids;
}

// A one-node cluster for each test (scripts/slurm-local.sh); skipped without Slurm or root.
class Slurm : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!slurm_installed()) GTEST_SKIP() << "Slurm is not installed (scripts/setup.sh installs slurm-wlm and munge)";
    if (geteuid() != 0) GTEST_SKIP() << "scripts/slurm-local.sh needs root (slurmd starts jobs as their user)";
    cluster_.emplace();
    ASSERT_TRUE(cluster_->ok()) << "scripts/slurm-local.sh start failed";
  }

  // `dfbench COMMAND DIR/local --jobs 1` (the reference), then `dfbench COMMAND DIR/slurm --slurm`;
  // the job ids it submitted.
  std::vector<std::string> submit_beside_a_local_run(const std::string& command, const std::string& dir) {
    EXPECT_EQ(dfbench(command + dir + "/local --jobs 1").code, 0);
    const CliResult sub = dfbench(command + dir + "/slurm --slurm");
    EXPECT_EQ(sub.code, 0) << sub.err;
    return job_ids(sub.out);
  }

 private:
  std::optional<LocalSlurm> cluster_;
};

TEST_F(Slurm, TheTinyPresetThroughALocalClusterEqualsALocalReproduce) {
  const std::string dir = temp_dir("slurm_tiny");
  const std::string common = "reproduce --preset tiny --methods " + kMethods + " --set train.steps=6 --out ";
  ASSERT_EQ(submit_beside_a_local_run(common, dir).size(), 3u);
  ASSERT_TRUE(wait_for_final(dir + "/slurm", 300)) << dfbench("status " + dir + "/slurm").out;
  const CliResult st = dfbench("status " + dir + "/slurm");
  EXPECT_NE(st.out.find("3 task(s): 3 done"), std::string::npos) << st.out;
  EXPECT_NE(st.out.find("final    done"), std::string::npos) << st.out;
  expect_same_comparison(dir + "/local", dir + "/slurm", {"teacher_forcing", "fifo_diffusion", "full_sequence"});
}

TEST_F(Slurm, ATaskCancelledHalfwayAndSubmittedAgainFinishesTheSame) {
  const std::string dir = temp_dir("slurm_cancel");
  const std::string common = "reproduce --preset tiny --methods teacher_forcing,diffusion_forcing --set train.steps=160 "
                             "--set train.checkpoint_every=20 --out ";
  const std::string run = dir + "/slurm";
  const std::vector<std::string> ids = submit_beside_a_local_run(common, dir);
  ASSERT_EQ(ids.size(), 2u);
  // Task 0 is cancelled once it has written a checkpoint and before it has finished.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(300);
  while (!fs::exists(checkpoint_path(run + "/teacher_forcing", 40)) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_EQ(std::system(("scancel " + ids[0] + "_0").c_str()), 0);
  // The final job can no longer start (afterok); cancel it and wait for task 1.
  while (!(fs::exists(run + "/diffusion_forcing/outcome.json")) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  if (std::system(("scancel " + ids[1] + " 2>/dev/null").c_str())) {
  }  // already gone where Slurm cancels jobs whose dependency can never be met
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const CliResult st = dfbench("status " + run);
  EXPECT_TRUE(st.out.find("task 0   failed") != std::string::npos || st.out.find("task 0   stopped") != std::string::npos)
      << st.out;
  EXPECT_NE(st.out.find("task 1   done"), std::string::npos) << st.out;
  // scancel's SIGTERM reached the training: it wrote a checkpoint past step 40 and said so.
  EXPECT_NE(read_file(run + "/slurm/logs/task-0.log").find("dfbench: stopped: training stopped by SIGTERM"),
            std::string::npos)
      << read_file(run + "/slurm/logs/task-0.log");
  const int64_t stopped_at = read_checkpoint(latest_checkpoint(run + "/teacher_forcing")).step;
  EXPECT_GT(stopped_at, 40);
  EXPECT_LT(stopped_at, 160) << "task 0 finished before it was cancelled";

  const CliResult again = dfbench(common + run + " --slurm");
  ASSERT_EQ(again.code, 0) << again.err;
  ASSERT_TRUE(wait_for_final(run, 300)) << dfbench("status " + run).out;
  EXPECT_NE(read_file(run + "/slurm/logs/task-0.log").find("train: resuming"), std::string::npos);
  expect_same_comparison(dir + "/local", run, {"teacher_forcing", "diffusion_forcing"});
}

// The warning Slurm sends before a time limit (--signal=B:USR1@..., here sent at once with
// `scancel --batch --signal=USR1`): the task script passes it to dfbench, the training writes a
// checkpoint and exits 75, the task requeues itself, and when Slurm starts it again it resumes
// from that checkpoint; the final job then runs, and the result equals a local reproduce.
TEST_F(Slurm, TheTimeLimitWarningRequeuesTheTaskWhichResumesFromItsCheckpoint) {
  const std::string dir = temp_dir("slurm_requeue");
  const std::string common = "reproduce --preset tiny --methods teacher_forcing --set train.steps=200 "
                             "--set train.checkpoint_every=1000 --set train.log_every=5 --out ";
  const std::string run = dir + "/slurm";
  const std::vector<std::string> ids = submit_beside_a_local_run(common, dir);
  ASSERT_EQ(ids.size(), 2u);
  const std::string log = run + "/teacher_forcing/train_log.jsonl";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(300);
  while ((!fs::exists(log) || read_file(log).find("\"loss\"") == std::string::npos) &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(std::system(("scancel --batch --signal=USR1 " + ids[0] + "_0").c_str()), 0);
  ASSERT_TRUE(wait_for_final(run, 300)) << dfbench("status " + run).out << read_file(run + "/slurm/logs/task-0.log");
  const std::string task_log = read_file(run + "/slurm/logs/task-0.log");
  const size_t stopped = task_log.find("dfbench: stopped: training stopped by SIGUSR1");
  EXPECT_NE(stopped, std::string::npos) << task_log;
  EXPECT_NE(task_log.find("train: resuming", stopped == std::string::npos ? 0 : stopped), std::string::npos) << task_log;
  expect_same_comparison(dir + "/local", run, {"teacher_forcing"}, /*extra_checkpoints=*/true);
}

}  // namespace
}  // namespace dfb

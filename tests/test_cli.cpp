// The real dfbench binary, end to end: data, validate, train, sample, resume after
// SIGKILL, and bad input (one clear error line, a non-zero exit, nothing lost).
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "train/train_log.h"
#include "tensor/checkpoint.h"
#include "base/files.h"
#include "base/json_reader.h"
#include "pipeline/sampler.h"
#include "formats/dataset_file.h"
#include "methods/diffusion_forcing/scheduling.h"
#include "backbones/backbone.h"
#include "base/presets.h"
#include "base/registry.h"
#include "datasets/dataset_registry.h"
#include "pipeline/run_config.h"
#include "rollout/method.h"
#include "tests/cli_runner.h"

namespace dfb {
namespace {

namespace fs = std::filesystem;


TEST(Cli, LsListsTheRegistries) {
  CliResult r = dfbench("ls");
  ASSERT_EQ(r.code, 0) << r.err;
  // Every registered method, backbone and dataset and every preset (a new one is listed the
  // moment it registers: no list here to extend).
  std::vector<std::string> names = Registry<MethodFactory>::instance().names();
  for (const std::string& n : Registry<BackboneFactory>::instance().names()) names.push_back(n);
  for (const std::string& n : Registry<DatasetFactory>::instance().names()) names.push_back(n);
  for (const Preset& p : embedded_presets()) names.push_back(p.name);
  EXPECT_GT(names.size(), 10u);
  for (const std::string& name : names)
    EXPECT_NE(r.out.find("  " + name), std::string::npos) << name << " missing from:\n" << r.out;
  // In every registry's section (presets have none), each name comes with a one-line description.
  std::istringstream lines(r.out);
  std::string section;
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line.back() == ':') section = line;
    else if (section != "presets:" && line.rfind("  ", 0) == 0) {
      const size_t name_end = line.find(' ', 2);
      const size_t text = name_end == std::string::npos ? name_end : line.find_first_not_of(' ', name_end);
      EXPECT_NE(text, std::string::npos) << "no description: " << line;
    }
  }
}

TEST(Cli, ValidateReportsEveryErrorWithSuggestions) {
  EXPECT_EQ(dfbench("validate smoke").code, 0);
  const std::string dir = temp_dir("validate");
  const std::string bad = write_text(dir + "/bad.json",
                                     R"({"name": "x", "train": {"stpes": 10, "lr": "fast"}, "methd": {}})");
  CliResult r = dfbench("validate " + bad);
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("train.stpes"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("steps"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("train.lr"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("method"), std::string::npos) << r.err;
  EXPECT_ONE_ERROR(dfbench("validate smoke --set train.steps=-3"), "train.steps");
}

TEST(Cli, MethodsListErrorsNameTheirEntry) {
  const std::string dir = temp_dir("methods");
  const std::string bad = write_text(
      dir + "/bad.json",
      R"({"name": "x", "methods": ["diffusion_forcing", "teacher_forcng", {"name": "full_sequence", "kep": 2},
                                    "diffusion_forcing"]})");
  CliResult r = dfbench("validate " + bad);
  EXPECT_NE(r.code, 0);
  for (const char* needle : {"methods[1].name", "teacher_forcing", "methods[2].kep", "'keep'", "methods[3]", "twice"})
    EXPECT_NE(r.err.find(needle), std::string::npos) << needle << " in: " << r.err;
  const std::string convgru = write_text(dir + "/convgru.json", R"({"backbone": {"name": "convgru"},
      "methods": ["teacher_forcing", "full_sequence"]})");
  EXPECT_ONE_ERROR(dfbench("validate " + convgru), "methods[1]: with this method, backbone.name");
}

TEST(Cli, ReproduceRunsEveryMethodOnTheSameDataAndSkipsWhatIsDone) {
  const std::string dir = temp_dir("reproduce");
  CliResult r = dfbench("reproduce --preset tiny --out " + dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json summary = nlohmann::json::parse(read_file(dir + "/shape_count.json"));
  std::vector<std::string> methods;  // the tiny preset's comparison, as the preset names it
  for (const auto& m : parse_run_config(load_config_json("tiny", {}), "tiny").methods)
    methods.push_back(m["name"].get<std::string>());
  ASSERT_GE(methods.size(), 2u);
  EXPECT_EQ(summary["methods"].size(), methods.size());
  for (const std::string& m : methods) {
    EXPECT_TRUE(summary["methods"].contains(m)) << m;
    EXPECT_TRUE(fs::exists(dir + "/" + m + "/samples.h5")) << m;
    // The same data for every method: the run's config names the shared files (relative to it).
    const nlohmann::json config = nlohmann::json::parse(read_file(dir + "/" + m + "/config.json"));
    EXPECT_EQ(config["method"]["name"], m);
    EXPECT_EQ(config["data"]["train_file"].get<std::string>(), "../data/train.h5");
    EXPECT_EQ(config["seed"], 0);
  }
  // Every method evaluated together: one metrics.json naming them all, with the encoder's hash.
  const nlohmann::json metrics = nlohmann::json::parse(read_file(dir + "/metrics.json"));
  EXPECT_EQ(metrics["methods"].size(), methods.size());
  for (const std::string& m : methods) EXPECT_TRUE(metrics["metrics"]["ssim"]["methods"].contains(m)) << m;
  EXPECT_EQ(metrics["evaluate"]["encoder_steps"], 20);
  EXPECT_TRUE(fs::exists(dir + "/curves.csv"));
  EXPECT_TRUE(fs::exists(dir + "/encoder.h5"));
  // The fair-opponent gate: the tiny preset trains a few dozen steps, far from 0.8 × the truth's valid
  // share, so its methods are below the gate and the headline ranks none of them; with one validation
  // (at the end) there is no trend to say whether they were still improving.
  const std::string report = read_file(dir + "/report/report.md");
  EXPECT_NE(report.find("| `teacher_forcing` | 0 | 0.80 | below the gate |"), std::string::npos) << report.substr(0, 2000);
  // Each method's training compute and curves: the tiny preset's 6 steps of 4 clips x 4 frames.
  for (const std::string& m : methods) {
    const nlohmann::json& t = metrics["training"][m];
    EXPECT_EQ(t["seeds"], 1) << m;
    EXPECT_EQ(t["runs"][0]["clips_seen"], 6 * 4) << m;
    EXPECT_EQ(t["runs"][0]["validation"].size(), 1u) << m;  // at the end (validate_every > steps)
    EXPECT_GT(t["flops"].get<double>(), 0) << m;
  }
  EXPECT_NE(report.find("| `teacher_forcing` | 1 | 6 | 4 | 4 |"), std::string::npos) << report;
  EXPECT_NE(report.find("![training](plots/training.svg)"), std::string::npos);
  EXPECT_TRUE(fs::exists(dir + "/report/plots/training.svg"));
  const std::string head = report.substr(0, report.find("\n## "));
  EXPECT_NE(head.find("Not ranked, below the fair-opponent gate"), std::string::npos) << head;
  EXPECT_EQ(head.find("teacher_forcing holds up best"), std::string::npos) << head;
  EXPECT_EQ(head.find("teacher_forcing is better"), std::string::npos) << head;
  const auto stamp = fs::last_write_time(dir + "/teacher_forcing/samples.h5");
  EXPECT_TRUE(fs::exists(dir + "/report/index.html"));
  // A rerun with nothing changed rewrites no file.
  std::map<std::string, fs::file_time_type> stamps;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) stamps[e.path().string()] = e.last_write_time();
  const CliResult rerun = dfbench("reproduce --preset tiny --out " + dir);
  EXPECT_NE(rerun.out.find("metrics.json is up to date"), std::string::npos) << rerun.out;
  EXPECT_NE(rerun.out.find("index.html is up to date"), std::string::npos) << rerun.out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) {
      EXPECT_EQ(stamps[e.path().string()], e.last_write_time()) << e.path();
    }
  }
  CliResult again = dfbench("reproduce --preset tiny --out " + dir + " --methods teacher_forcing,full_sequence");
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_NE(again.out.find("teacher_forcing is trained"), std::string::npos) << again.out;
  EXPECT_NE(again.out.find("is up to date"), std::string::npos) << again.out;
  EXPECT_EQ(again.out.find("diffusion_forcing"), std::string::npos) << "--methods picks a subset";
  EXPECT_EQ(fs::last_write_time(dir + "/teacher_forcing/samples.h5"), stamp);
  EXPECT_ONE_ERROR(dfbench("reproduce --preset tiny --out " + dir + " --methods teacher_forcng"), "teacher_forcing");

  // A sampling-time option of a method: its rollouts are made again, its training is kept.
  CliResult resampled =
      dfbench("reproduce --preset tiny --out " + dir + " --methods diffusion_forcing --set method.stabilization=0");
  ASSERT_EQ(resampled.code, 0) << resampled.err;
  EXPECT_NE(resampled.out.find("diffusion_forcing is trained"), std::string::npos) << resampled.out;
  EXPECT_NE(resampled.out.find("sample: wrote"), std::string::npos) << resampled.out;
  // A training option: the run is trained again, and the one trained before is kept aside.
  CliResult retrained = dfbench("reproduce --preset tiny --out " + dir + " --methods teacher_forcing --set train.lr=0.01");
  ASSERT_EQ(retrained.code, 0) << retrained.err;
  EXPECT_NE(retrained.out.find("was trained with another config or data; moved it to"), std::string::npos) << retrained.out;
  EXPECT_EQ(nlohmann::json::parse(read_file(dir + "/teacher_forcing/config.json"))["train"]["lr"], 0.01);
  int kept = 0;
  for (const auto& e : fs::directory_iterator(dir + "/.replaced")) kept += fs::exists(e.path() / "config.json");
  EXPECT_EQ(kept, 1);
  EXPECT_NE(nlohmann::json::parse(read_file(dir + "/metrics.json"))["stage_key"], metrics["stage_key"])
      << "new rollouts, so a new evaluation";
}

// Files and their modification times under `dir`.
std::map<std::string, fs::file_time_type> file_stamps(const std::string& dir) {
  std::map<std::string, fs::file_time_type> stamps;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) stamps[e.path().string()] = e.last_write_time();
  return stamps;
}

TEST(Cli, ReproduceSeedsInChildProcessesPoolsThemInOneEvaluation) {
  const std::string dir = temp_dir("reproduce_seeds");
  const std::string args = "reproduce --preset tiny --out " + dir + " --methods teacher_forcing,diffusion_forcing";
  CliResult r = dfbench(args + " --seeds 2 --jobs 2");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("2 method(s) x 2 seed(s), 2 at a time"), std::string::npos) << r.out;
  for (const std::string m : {"teacher_forcing", "diffusion_forcing"}) {
    for (const std::string& run : {dir + "/" + m, dir + "/seed1/" + m}) {
      EXPECT_TRUE(fs::exists(run + "/samples.h5")) << run;
      EXPECT_TRUE(fs::exists(run + "/outcome.json")) << run;  // what the child reports back
    }
    EXPECT_EQ(nlohmann::json::parse(read_file(dir + "/seed1/" + m + "/config.json"))["seed"], 1);
  }
  EXPECT_NE(read_rollout_file(dir + "/teacher_forcing/samples.h5").generated.frames,
            read_rollout_file(dir + "/seed1/teacher_forcing/samples.h5").generated.frames);
  const nlohmann::json metrics = nlohmann::json::parse(read_file(dir + "/metrics.json"));
  EXPECT_EQ(metrics["seeds"]["teacher_forcing"], 2);
  EXPECT_EQ(metrics["methods"].size(), 2u);
  EXPECT_EQ(metrics["inputs"]["samples"].size(), 4u);
  // Nothing changed: no child is started and no file is written.
  const auto stamps = file_stamps(dir);
  CliResult rerun = dfbench(args + " --seeds 2 --jobs 2");
  ASSERT_EQ(rerun.code, 0) << rerun.err;
  EXPECT_EQ(rerun.out.find("started"), std::string::npos) << rerun.out;
  EXPECT_EQ(file_stamps(dir), stamps);
  // A second reproduce on the folder is refused while one runs (holds its lock).
  const int fd = open((dir + "/.reproduce.lock").c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(flock(fd, LOCK_EX | LOCK_NB), 0);
  EXPECT_ONE_ERROR(dfbench(args + " --seeds 2"), "another dfbench reproduce is writing");
  close(fd);
}

// A finished run folder copied elsewhere (another mount point, another machine) and the
// original removed: a rerun there finds every stage done and changes no file, and its method
// runs still sample (their config.json names the data relative to themselves).
TEST(Cli, AMovedRunFolderIsRecognisedAsDone) {
  const std::string dir = temp_dir("reproduce_moved");
  const std::string args = " reproduce --preset tiny --methods teacher_forcing --seeds 2 --jobs 1 --set train.steps=6";
  ASSERT_EQ(dfbench(args + " --out " + dir + "/first").code, 0);
  ASSERT_EQ(std::system(("cp -a " + dir + "/first " + dir + "/moved && rm -rf " + dir + "/first").c_str()), 0);
  const auto stamps = file_stamps(dir + "/moved");
  const CliResult r = dfbench(args + " --out " + dir + "/moved");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(file_stamps(dir + "/moved"), stamps) << r.out;
  EXPECT_NE(r.out.find("evaluate: " + dir + "/moved/metrics.json is up to date"), std::string::npos) << r.out;
  const nlohmann::json stored = nlohmann::json::parse(read_file(dir + "/moved/seed1/teacher_forcing/config.json"));
  EXPECT_EQ(stored["data"]["train_file"], "../../data/train.h5");
  const CliResult s =
      dfbench("sample --run " + dir + "/moved/seed1/teacher_forcing --count 2 --out " + dir + "/again.h5");
  EXPECT_EQ(s.code, 0) << s.err;
}

TEST(Cli, ReproduceKilledAtAnyPointFinishesLikeAnUninterruptedRun) {
  const std::string dir = temp_dir("reproduce_kill");
  const std::vector<std::string> args = {"reproduce", "--preset", "tiny", "--methods", "teacher_forcing,rolling_diffusion",
                                         "--set", "train.steps=40", "--set", "train.checkpoint_every=10"};
  auto command = [&](const std::string& out) {
    std::string c;
    for (const std::string& a : args) c += " " + a;
    return c + " --out " + out;
  };
  ASSERT_EQ(dfbench(command(dir + "/whole") + " --jobs 1").code, 0);

  // Killed (SIGKILL, children included) after 0.3 s, 0.6 s, ... of each attempt, until one finishes.
  const std::string run = dir + "/killed";
  int kills = 0;
  for (int attempt = 1; attempt <= 40; ++attempt) {
    std::vector<std::string> a = args;
    a.insert(a.end(), {"--out", run, "--jobs", "2"});
    const pid_t pid = spawn_dfbench(a);
    ASSERT_GE(pid, 0);
    int status = 0;
    if (wait_until(pid, std::chrono::steady_clock::now() + std::chrono::milliseconds(300 * attempt), &status)) {
      ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "attempt " << attempt;
      break;
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    ++kills;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the children follow (PR_SET_PDEATHSIG)
  }
  EXPECT_GE(kills, 3);
  ASSERT_TRUE(fs::exists(run + "/report/index.html"));
  for (const char* m : {"teacher_forcing", "rolling_diffusion"}) {
    EXPECT_EQ(read_rollout_file(run + "/" + m + "/samples.h5").generated.frames,
              read_rollout_file(dir + "/whole/" + m + "/samples.h5").generated.frames)
        << m;
  }
  nlohmann::json a = nlohmann::json::parse(read_file(dir + "/whole/metrics.json"));
  nlohmann::json b = nlohmann::json::parse(read_file(run + "/metrics.json"));
  EXPECT_EQ(a["metrics"], b["metrics"]);
  // No temporary file is left, and a rerun changes nothing.
  for (const auto& e : fs::recursive_directory_iterator(run))
    EXPECT_EQ(e.path().string().find(".tmp-"), std::string::npos) << e.path();
  const auto stamps = file_stamps(run);
  ASSERT_EQ(dfbench(command(run)).code, 0);
  EXPECT_EQ(file_stamps(run), stamps);
}

TEST(Cli, SchedulePrintsTheMatrixOfEveryMode) {
  for (const std::string& mode : scheduling_modes()) {
    CliResult r = dfbench("schedule --mode " + mode + " --steps 5 --frames 4 --uncertainty 1.5");
    ASSERT_EQ(r.code, 0) << r.err;
    // The formulas themselves are checked on a grid in test_diffusion.cpp; here, the CLI prints them.
    EXPECT_EQ(nlohmann::json::parse(r.out), nlohmann::json(scheduling_matrix(mode, 5, 4, 1.5))) << mode;
  }
  EXPECT_ONE_ERROR(dfbench("schedule --mode pyramd"), "pyramid");
  // fifo_diffusion's queue plan (checked against the formula in baselines/fifo_diffusion/).
  CliResult r = dfbench("schedule --mode fifo --frames 4 --partitions 2");
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json plan = nlohmann::json::parse(r.out);
  EXPECT_EQ(plan["pad"], 2);
  EXPECT_EQ(plan["calls"].size(), 4u);
  EXPECT_EQ(plan["levels"].back(), 1000);
  EXPECT_ONE_ERROR(dfbench("schedule --mode fifo --frames 5"), "even window");
}

TEST(Cli, DataMakeTrainSampleEndToEnd) {
  const std::string dir = temp_dir("e2e");
  ASSERT_EQ(dfbench("data make bouncing_shapes --out " + dir + "/d.h5 --clips 5 --length 7 --size 16 --seed 3 --set radius_min=2.5 --set radius_max=3").code, 0);
  Clips d = read_dataset_file(dir + "/d.h5");
  EXPECT_EQ(d.count, 5);
  EXPECT_EQ(d.length, 7);
  EXPECT_EQ(d.height, 16);

  CliResult t = dfbench("train --config tiny --out " + dir + "/run");
  ASSERT_EQ(t.code, 0) << t.err;
  EXPECT_TRUE(fs::exists(dir + "/run/config.json"));
  EXPECT_TRUE(fs::exists(dir + "/run/env.json"));
  EXPECT_EQ(read_checkpoint(latest_checkpoint(dir + "/run")).step, 6);
  const TrainLog log = read_train_log(dir + "/run/train_log.jsonl");
  EXPECT_EQ(log.intervals.size(), 3u);  // log_every 2, 6 steps
  EXPECT_EQ(log.validation.size(), 1u);  // at the end: validate_every is past the 6 steps

  CliResult s = dfbench("sample --run " + dir + "/run --out " + dir + "/s.h5 --context 2 --length 12 --count 3");
  ASSERT_EQ(s.code, 0) << s.err;
  Rollouts roll = read_rollout_file(dir + "/s.h5");
  EXPECT_EQ(roll.method, "diffusion_forcing");
  EXPECT_EQ(roll.context, 2);
  EXPECT_EQ(roll.t_train, 4);
  EXPECT_EQ(roll.generated.count, 3);
  EXPECT_EQ(roll.generated.length, 12);
  EXPECT_EQ(roll.truth.length, 12);
  // The context frames come first, unchanged: exactly the ground truth's first frames.
  const int64_t ctx_bytes = 2 * roll.generated.frame_bytes();
  for (int64_t i = 0; i < 3; ++i)
    EXPECT_TRUE(std::equal(roll.generated.clip(i), roll.generated.clip(i) + ctx_bytes, roll.truth.clip(i)));
  // Same seed, same file contents.
  ASSERT_EQ(dfbench("sample --run " + dir + "/run --out " + dir + "/s2.h5 --context 2 --length 12 --count 3").code, 0);
  EXPECT_EQ(read_rollout_file(dir + "/s2.h5").generated.frames, roll.generated.frames);

  // A non-causal method trained from a preset that lists causal ones too: the run's config.json
  // is its own (no "methods" list), so the run folder reads back and samples.
  CliResult fs_train = dfbench("train --config tiny --out " + dir + "/fs --set train.steps=2 --set 'method={\"name\": \"full_sequence\"}'");
  ASSERT_EQ(fs_train.code, 0) << fs_train.err;
  EXPECT_FALSE(load_json_file(dir + "/fs/config.json").contains("methods"));
  CliResult fs_sample = dfbench("sample --run " + dir + "/fs --out " + dir + "/fs.h5 --context 2 --length 6 --count 2");
  ASSERT_EQ(fs_sample.code, 0) << fs_sample.err;
  EXPECT_EQ(read_rollout_file(dir + "/fs.h5").method, "full_sequence");
}

TEST(Cli, ResumeAfterSigkillEqualsAnUninterruptedRun) {
  const std::string dir = temp_dir("kill");
  const std::string sets = " --set train.steps=150 --set train.checkpoint_every=10 --set train.log_every=10";
  ASSERT_EQ(dfbench("train --config tiny --out " + dir + "/full" + sets).code, 0);

  const std::string run = dir + "/killed";
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    freopen("/dev/null", "w", stderr);
    execl(DFB_CLI_PATH, DFB_CLI_PATH, "--threads", "1", "train", "--config", "tiny", "--out", run.c_str(), "--set",
          "train.steps=150", "--set", "train.checkpoint_every=10", "--set", "train.log_every=10", (char*)nullptr);
    _exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!fs::exists(checkpoint_path(run, 30)) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "training finished before it could be killed; make it longer";
  const int64_t killed_at = read_checkpoint(latest_checkpoint(run)).step;
  EXPECT_GE(killed_at, 30);
  EXPECT_LT(killed_at, 150);

  CliResult again = dfbench("train --out " + run + sets);
  EXPECT_NE(again.code, 0) << "a killed run must not be restarted over without --resume";
  CliResult resumed = dfbench("train --out " + run + " --resume");
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  CheckpointData a = read_checkpoint(latest_checkpoint(dir + "/full")), b = read_checkpoint(latest_checkpoint(run));
  EXPECT_EQ(a.step, 150);
  EXPECT_EQ(b.step, 150);
  for (const auto& [name, t] : a.tensors) EXPECT_TRUE(torch::equal(t, b.tensors.at(name))) << name;
  // The log was cut back to the checkpoint and continued: every interval once, in order, one
  // header, and the one validation at the end.
  const TrainLog log = read_train_log(run + "/train_log.jsonl");
  ASSERT_EQ(log.intervals.size(), 15u);
  for (size_t i = 0; i < log.intervals.size(); ++i) EXPECT_EQ(log.intervals[i].step, 10 * static_cast<int64_t>(i + 1));
  EXPECT_EQ(log.validation.size(), 1u);
  int headers = 0;
  std::istringstream lines(read_file(run + "/train_log.jsonl"));
  for (std::string line; std::getline(lines, line);) headers += line.find("\"batch\"") != std::string::npos;
  EXPECT_EQ(headers, 1);
}

TEST(Cli, BadInputGivesOneClearErrorAndLosesNothing) {
  const std::string dir = temp_dir("bad");
  // Config: missing, not JSON, unknown preset.
  EXPECT_ONE_ERROR(dfbench("train --config " + dir + "/nope.json --out " + dir + "/r0"), "nope.json");
  const std::string broken = write_text(dir + "/broken.json", "{\"name\": \"x\", \"train\": {");
  EXPECT_ONE_ERROR(dfbench("train --config " + broken + " --out " + dir + "/r0"), "broken.json");
  EXPECT_ONE_ERROR(dfbench("validate smokey"), "smoke");

  // Dataset: missing, corrupt, wrong shape.
  EXPECT_ONE_ERROR(dfbench("train --config tiny --set data.train_file=" + dir + "/none.h5 --out " + dir + "/r1"),
                   "none.h5");
  const std::string garbage = write_text(dir + "/garbage.h5", "this is not HDF5");
  EXPECT_ONE_ERROR(dfbench("train --config tiny --set data.train_file=" + garbage + " --out " + dir + "/r2"),
                   "garbage.h5");
  ASSERT_EQ(dfbench("data make bouncing_shapes --out " + dir + "/d16.h5 --clips 4 --length 6 --size 16 --set radius_min=2.5 --set radius_max=3").code, 0);
  ASSERT_EQ(dfbench("data make bouncing_shapes --out " + dir + "/d32.h5 --clips 4 --length 12 --size 32").code, 0);
  ASSERT_EQ(dfbench("train --config tiny --out " + dir + "/run --set data.train_file=" + dir + "/d16.h5").code, 0);
  CliResult ok = dfbench("sample --run " + dir + "/run --out " + dir + "/s.h5 --count 2 --length 8");
  EXPECT_EQ(ok.code, 0) << ok.err;
  // The evaluation file's frame size is refused before anything is written: by training (its
  // validation reads it), and by sampling a run trained without validation.
  EXPECT_ONE_ERROR(dfbench("train --config tiny --out " + dir + "/r3 --set data.train_file=" + dir +
                           "/d16.h5 --set data.eval_file=" + dir + "/d32.h5"),
                   "32x32");
  EXPECT_FALSE(fs::exists(dir + "/r3/config.json"));
  CliResult unvalidated = dfbench("train --config tiny --out " + dir + "/r3 --set train.validate_every=0 --set data.train_file=" +
                                  dir + "/d16.h5 --set data.eval_file=" + dir + "/d32.h5");
  ASSERT_EQ(unvalidated.code, 0) << unvalidated.err;
  EXPECT_ONE_ERROR(dfbench("sample --run " + dir + "/r3 --out " + dir + "/s3.h5 --count 2 --length 8"), "32x32");
  EXPECT_FALSE(fs::exists(dir + "/s3.h5"));

  // Checkpoint: corrupt; an existing run is never overwritten.
  const std::string ckpt = latest_checkpoint(dir + "/run");
  const std::string before = read_file(ckpt);
  EXPECT_ONE_ERROR(dfbench("train --config tiny --out " + dir + "/run"), "--resume");
  EXPECT_EQ(read_file(ckpt), before);
  const std::string bad_ckpt = write_text(dir + "/bad_ckpt.h5", "garbage");
  EXPECT_ONE_ERROR(dfbench("sample --run " + dir + "/run --checkpoint " + bad_ckpt + " --out " + dir + "/s4.h5"),
                   "bad_ckpt.h5");
  EXPECT_FALSE(fs::exists(dir + "/s4.h5"));

  // An existing output file survives a failed sample.
  const std::string keep = write_text(dir + "/keep.h5", "precious");
  EXPECT_ONE_ERROR(dfbench("sample --run " + dir + "/run --checkpoint " + bad_ckpt + " --out " + keep), "bad_ckpt.h5");
  EXPECT_EQ(read_file(keep), "precious");

  // NaN loss: a clear error, the run folder keeps what it had.
  CliResult nan = dfbench("train --config tiny --out " + dir + "/nan --set train.lr=1e30 --set train.warmup=0");
  EXPECT_ONE_ERROR(nan, "loss");
  EXPECT_TRUE(fs::exists(dir + "/nan/config.json"));

  // A missing run.
  EXPECT_ONE_ERROR(dfbench("sample --run " + dir + "/nothing --out " + dir + "/s5.h5"), "nothing");
}

}  // namespace
}  // namespace dfb

// Faults in every stage of `dfbench reproduce` (docs/reliability.md): a full disk while the data,
// the training, the sampling, the evaluation and the report are written gives one clear error,
// leaves no partial file, and a rerun with space finishes as if nothing had happened. The full
// disk is a file size limit (RLIMIT_FSIZE through `ulimit -f`, with SIGXFSZ ignored, so a write
// fails with EFBIG as it fails with ENOSPC on a full disk); a tmpfs would need root.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
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

TEST(Faults, AFullDiskInEachStageGivesOneErrorAndARerunFinishesAsIfNothingHappened) {
  const std::string dir = temp_dir("faults_disk");
  const std::string args = "reproduce --preset tiny --methods teacher_forcing --set train.steps=6";
  ASSERT_EQ(dfbench_limited(0, args + " --out " + dir + "/whole").code, 0);

  // Each limit lets the stages before it finish and stops the next one at its first file larger
  // than the limit (sizes in the tiny run: data 22 kB, checkpoints 1 MB, rollouts 38 kB, the
  // encoder 60 kB, metrics 52 kB, the report's page 376 kB); each rerun resumes where the last
  // one stopped. The stages after training write less than a checkpoint, so they are reached by
  // finishing the run and removing their outputs.
  const std::string run = dir + "/run";
  auto fails_cleanly = [&](int kb, const std::string& stage, const std::vector<std::string>& files) {
    const CliResult r = dfbench_limited(kb, args + " --out " + run);
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
  ASSERT_EQ(dfbench_limited(0, args + " --out " + run).code, 0);
  for (const char* f : {"teacher_forcing/samples.h5", "metrics.json", "curves.csv", "report"}) fs::remove_all(run + "/" + f);
  fails_cleanly(32, "sample", {"/samples.h5"});
  fails_cleanly(48, "evaluate", {"/encoder.h5", "/metrics.json"});
  fails_cleanly(128, "report", {"/report/"});
  const CliResult done = dfbench_limited(0, args + " --out " + run);
  ASSERT_EQ(done.code, 0) << done.err;
  EXPECT_TRUE(fs::exists(run + "/report/index.html"));
  EXPECT_EQ(read_rollout_file(run + "/teacher_forcing/samples.h5").generated.frames,
            read_rollout_file(dir + "/whole/teacher_forcing/samples.h5").generated.frames);
  const nlohmann::json a = nlohmann::json::parse(read_file(dir + "/whole/metrics.json"));
  const nlohmann::json b = nlohmann::json::parse(read_file(run + "/metrics.json"));
  EXPECT_EQ(a["metrics"], b["metrics"]);
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

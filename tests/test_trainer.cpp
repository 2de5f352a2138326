// Checkpoints and the trainer on tiny CPU models (the `tiny` preset): round trips, exact
// resume, refusals, NaN loss, the learning-rate schedule.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <sstream>

#include "tensor/checkpoint.h"
#include "tensor/compat.h"
#include "rollout/denoiser.h"
#include "base/error.h"
#include "base/files.h"
#include "base/json_reader.h"
#include "pipeline/run_config.h"
#include "pipeline/run_parts.h"
#include "pipeline/train_run.h"
#include "tests/tiny_models.h"

namespace dfb {
namespace {

namespace fs = std::filesystem;

TEST(Checkpoint, RoundTripsAndRejectsBadFiles) {
  const std::string dir = fresh_dir("ckpt");
  make_dirs(dir + "/checkpoints");
  torch::Tensor w = torch::randn({3, 4}), m = torch::randn({3, 4});
  const std::string path = checkpoint_path(dir, 42);
  write_checkpoint(path, 42, 9, "{\"name\": \"x\"}", {{"model", {{"w", w}}}, {"optim", {{"m/w", m}}}});
  CheckpointData cd = read_checkpoint(path);
  EXPECT_EQ(cd.step, 42);
  EXPECT_EQ(cd.seed, 9u);
  EXPECT_EQ(cd.config_json, "{\"name\": \"x\"}");
  EXPECT_TRUE(torch::equal(cd.tensors.at("model/w"), w));
  EXPECT_TRUE(torch::equal(cd.tensors.at("optim/m/w"), m));
  EXPECT_EQ(latest_checkpoint(dir), path);

  EXPECT_THROW(read_checkpoint(dir + "/missing.h5"), Error);
  write_file_atomic(dir + "/corrupt.h5", "not an HDF5 file at all");
  try {
    read_checkpoint(dir + "/corrupt.h5");
    FAIL() << "a corrupt checkpoint must throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("corrupt.h5"), std::string::npos) << e.what();
  }
  // A truncated checkpoint (e.g. a full disk during a copy) is refused too.
  std::string bytes = read_file(path);
  write_file_atomic(dir + "/truncated.h5", bytes.substr(0, bytes.size() / 2));
  EXPECT_THROW(read_checkpoint(dir + "/truncated.h5"), Error);
}

TEST(Trainer, ResumedRunEqualsUninterruptedRun) {
  single_threaded([] {
    RunConfig c = tiny_config({"train.steps=6", "train.checkpoint_every=2"});
    const std::string full = fresh_dir("full"), split = fresh_dir("split");
    TrainRunOptions quiet;
    quiet.quiet = true;
    train_run(c, full, quiet);

    TrainRunOptions first = quiet;
    first.stop_after = 3;  // stops between checkpoints: the resume must redo from its own checkpoint at 3
    TrainSummary s1 = train_run(c, split, first);
    EXPECT_EQ(s1.end_step, 3);
    EXPECT_THROW(train_run(c, split, quiet), Error) << "a run with checkpoints needs --resume";
    TrainRunOptions resume = quiet;
    resume.resume = true;
    TrainSummary s2 = train_run(c, split, resume);
    EXPECT_EQ(s2.start_step, 3);
    EXPECT_EQ(s2.end_step, 6);

    CheckpointData a = read_checkpoint(latest_checkpoint(full)), b = read_checkpoint(latest_checkpoint(split));
    EXPECT_EQ(a.step, 6);
    EXPECT_EQ(b.step, 6);
    ASSERT_EQ(a.tensors.size(), b.tensors.size());
    for (const auto& [name, t] : a.tensors) EXPECT_TRUE(torch::equal(t, b.tensors.at(name))) << name;
    // The resumed log was cut back to step 3 and continued: steps increase, and the last line's
    // loss (an interval both runs trained identically) is the same number.
    auto log_lines = [](const std::string& run) {
      std::vector<nlohmann::json> lines;
      std::istringstream in(read_file(run + "/train_log.jsonl"));
      for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
      return lines;
    };
    std::vector<nlohmann::json> lf = log_lines(full), ls = log_lines(split);
    for (size_t i = 1; i < ls.size(); ++i) EXPECT_LT(ls[i - 1]["step"], ls[i]["step"]);
    EXPECT_EQ(ls.back()["step"], 6);
    EXPECT_EQ(ls.back()["loss"].get<double>(), lf.back()["loss"].get<double>());
  });
}

TEST(Trainer, ResumeRefusesAChangedConfig) {
  const std::string dir = fresh_dir("changed");
  TrainRunOptions o;
  o.quiet = true;
  o.stop_after = 2;
  train_run(tiny_config(), dir, o);
  o.resume = true;
  o.stop_after = -1;
  EXPECT_THROW(train_run(tiny_config({"train.lr=0.01"}), dir, o), Error);
}

TEST(Trainer, NanLossStopsWithAnErrorAndKeepsTheLastCheckpoint) {
  const std::string dir = fresh_dir("nan");
  TrainRunOptions o;
  o.quiet = true;
  RunConfig c = tiny_config({"train.lr=1e30", "train.warmup=0", "train.grad_clip=0", "train.steps=6"});
  try {
    train_run(c, dir, o);
    FAIL() << "lr = 1e30 must blow up";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("loss"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(fs::exists(dir + "/config.json"));
}

TEST(Trainer, LearningRateWarmsUpThenDecays) {
  RunConfig c = tiny_config({"train.steps=100", "train.warmup=10", "train.lr=1.0", "train.min_lr_ratio=0.1"});
  EXPECT_NEAR(learning_rate(c.train, 0), 0.1, 1e-12);
  EXPECT_NEAR(learning_rate(c.train, 9), 1.0, 1e-12);
  EXPECT_GT(learning_rate(c.train, 50), 0.1);
  EXPECT_LT(learning_rate(c.train, 50), 1.0);
  EXPECT_NEAR(learning_rate(c.train, 99), 0.1, 1e-3);
}

}  // namespace
}  // namespace dfb

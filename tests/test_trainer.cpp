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
#include "metrics/training_summary.h"
#include "train/train_log.h"
#include "tests/plain/h5_test_util.h"
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

// Flips one byte of the first run of `pattern` in the file at `path` (a tensor's stored bytes).
void flip_byte_of(const std::string& path, const std::string& pattern) {
  std::string bytes = read_file(path);
  const size_t at = bytes.find(pattern);
  ASSERT_NE(at, std::string::npos) << "the tensor's bytes are not in " << path;
  bytes[at + pattern.size() / 2] ^= 0x10;
  write_file_atomic(path, bytes);
}

TEST(Checkpoint, ChecksumCatchesAChangedByteInATensor) {
  const std::string dir = fresh_dir("ckpt_sum");
  make_dirs(dir + "/checkpoints");
  const torch::Tensor w = torch::full({64}, 1234.5678f);
  const std::string path = checkpoint_path(dir, 1);
  write_checkpoint(path, 1, 0, "{}", {{"model", {{"w", w}}}});
  EXPECT_TRUE(torch::equal(read_checkpoint(path).tensors.at("model/w"), w));
  flip_byte_of(path, std::string(reinterpret_cast<const char*>(w.data_ptr<float>()), 64 * sizeof(float)));
  try {
    read_checkpoint(path);
    FAIL() << "a changed byte must be caught";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path + ": tensor 'model/w' fails its checksum"), std::string::npos) << e.what();
  }
}

TEST(Checkpoint, ATensorDeclaringAHugeShapeIsRefusedByName) {
  const std::string dir = fresh_dir("ckpt_huge");
  make_dirs(dir + "/checkpoints");
  const std::string path = checkpoint_path(dir, 1);
  write_checkpoint(path, 1, 0, "{}", {{"model", {{"w", torch::ones({4})}}}});
  h5_test::declare_huge(path, "model/w", {hsize_t{1} << 20, hsize_t{1} << 20, hsize_t{1} << 20}, H5T_IEEE_F32LE);
  try {
    read_checkpoint(path);
    FAIL() << "a huge declared tensor must be refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path + ": dataset 'model/w' declares [1048576, 1048576, 1048576] float32: 4.61 EB"),
              std::string::npos)
        << e.what();
  }
}

TEST(Trainer, ResumeFromADamagedLatestCheckpointFallsBackToThePreviousOne) {
  single_threaded([] {
    RunConfig c = tiny_config({"train.steps=6", "train.checkpoint_every=2"});
    const std::string full = fresh_dir("fallback_full"), split = fresh_dir("fallback_split");
    TrainRunOptions quiet;
    quiet.quiet = true;
    train_run(c, full, quiet);
    TrainRunOptions first = quiet;
    first.stop_after = 4;  // checkpoints at 2 and 4 are kept
    train_run(c, split, first);
    const std::string damaged = checkpoint_path(split, 4);
    const std::string bytes = read_file(damaged);
    write_file_atomic(damaged, bytes.substr(0, bytes.size() - 100));  // e.g. a copy cut short

    TrainRunOptions resume = quiet;
    resume.resume = true;
    testing::internal::CaptureStderr();
    TrainSummary s = train_run(c, split, resume);
    const std::string said = testing::internal::GetCapturedStderr();
    EXPECT_NE(said.find(damaged), std::string::npos) << said;
    EXPECT_NE(said.find("falling back to the one before"), std::string::npos) << said;
    EXPECT_EQ(s.start_step, 2);
    EXPECT_EQ(s.end_step, 6);
    EXPECT_TRUE(fs::exists(damaged + ".damaged"));
    const CheckpointData a = read_checkpoint(latest_checkpoint(full)), b = read_checkpoint(latest_checkpoint(split));
    EXPECT_EQ(b.step, 6);
    for (const auto& [name, t] : a.tensors) EXPECT_TRUE(torch::equal(t, b.tensors.at(name))) << name;
  });
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
    // The resumed log was cut back to step 3 and continued: steps increase, and the last
    // interval's loss (one both runs trained identically) is the same number; so is the
    // validation at the end.
    const TrainLog lf = read_train_log(full + "/train_log.jsonl"), ls = read_train_log(split + "/train_log.jsonl");
    for (size_t i = 1; i < ls.intervals.size(); ++i) EXPECT_LT(ls.intervals[i - 1].step, ls.intervals[i].step);
    EXPECT_EQ(ls.steps(), 6);
    EXPECT_EQ(ls.intervals.back().loss, lf.intervals.back().loss);
    ASSERT_EQ(ls.validation.size(), 1u);
    ASSERT_EQ(lf.validation.size(), 1u);
    EXPECT_EQ(ls.validation.back().values, lf.validation.back().values);
  });
}

TEST(TrainLog, ReadsEachKindOfLineAndSkipsOneCutShort) {
  const std::string dir = fresh_dir("trainlog");
  make_dirs(dir);
  write_file_atomic(dir + "/train_log.jsonl",
                    "{\"step\":0,\"batch\":4,\"frames\":6,\"parameters\":99,\"clips\":32}\n"
                    "{\"step\":10,\"loss\":0.5,\"lr\":0.001,\"grad_norm\":1,\"steps_per_second\":2,\"step_flops\":1e9}\n"
                    "{\"step\":10,\"validation\":{\"loss\":0.4,\"oracle_valid\":null},\"seconds\":1.5}\n"
                    "{\"step\":20,\"loss\":0.25,\"lr\":0.001,\"grad_norm\":1,\"steps_per_second\":5}\n"
                    "{\"step\":30,\"loss\":0.2");  // killed mid-line
  const TrainLog log = read_train_log(dir + "/train_log.jsonl");
  EXPECT_EQ(log.batch, 4);
  EXPECT_EQ(log.frames, 6);
  EXPECT_EQ(log.parameters, 99);
  EXPECT_EQ(log.clips, 32);
  ASSERT_EQ(log.intervals.size(), 2u);
  EXPECT_EQ(log.steps(), 20);
  EXPECT_DOUBLE_EQ(log.intervals[1].loss, 0.25);
  EXPECT_DOUBLE_EQ(log.train_seconds(), 10 / 2.0 + 10 / 5.0);  // steps of each interval / its rate
  EXPECT_DOUBLE_EQ(log.step_flops, 1e9);
  ASSERT_EQ(log.validation.size(), 1u);
  EXPECT_DOUBLE_EQ(log.validation[0].values.at("loss"), 0.4);
  EXPECT_TRUE(std::isnan(log.validation[0].values.at("oracle_valid")));
  EXPECT_DOUBLE_EQ(log.validation_seconds(), 1.5);

  write_file_atomic(dir + "/bad.jsonl", "{\"step\":0,\"batch\":4,\"frames\":6}\n{\"step\":10,\"loss\":\"high\"}\n");
  try {
    read_train_log(dir + "/bad.jsonl");
    FAIL() << "a loss that is not a number must be refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.jsonl, line 2"), std::string::npos) << e.what();
  }
  EXPECT_THROW(read_train_log(dir + "/missing.jsonl"), Error);
}

// The validation reads the EMA weights only: a run validated every 2 steps trains bit for bit as
// one never validated, logs its scores at 2, 4, 6, and its compute adds up from the header.
TEST(Trainer, ValidationLeavesTheTrainingAsItWasAndIsLogged) {
  single_threaded([] {
    const std::string plain = fresh_dir("val0"), checked = fresh_dir("val2");
    TrainRunOptions quiet;
    quiet.quiet = true;
    train_run(tiny_config({"train.steps=6", "train.validate_every=0"}), plain, quiet);
    train_run(tiny_config({"train.steps=6", "train.validate_every=2", "train.validate_clips=3"}), checked, quiet);
    CheckpointData a = read_checkpoint(latest_checkpoint(plain)), b = read_checkpoint(latest_checkpoint(checked));
    ASSERT_EQ(a.tensors.size(), b.tensors.size());
    for (const auto& [name, t] : a.tensors) EXPECT_TRUE(torch::equal(t, b.tensors.at(name))) << name;

    EXPECT_TRUE(read_train_log(plain + "/train_log.jsonl").validation.empty());
    const TrainLog log = read_train_log(checked + "/train_log.jsonl");
    ASSERT_EQ(log.validation.size(), 3u);
    for (size_t i = 0; i < 3; ++i) {
      EXPECT_EQ(log.validation[i].step, 2 * static_cast<int64_t>(i + 1));
      EXPECT_TRUE(std::isfinite(log.validation[i].values.at("loss")));
      const double valid = log.validation[i].values.at("oracle_valid");  // tiny is bouncing shapes
      EXPECT_GE(valid, 0.0);
      EXPECT_LE(valid, 1.0);
    }
    const RunConfig c = tiny_config();
    EXPECT_EQ(log.batch, c.train.batch);
    EXPECT_EQ(log.frames, c.train.frames);
    EXPECT_GT(log.parameters, 0);
    EXPECT_GT(log.step_flops, 0);

    const nlohmann::json s = training_run_summary(checked);
    EXPECT_EQ(s["steps"], 6);
    EXPECT_EQ(s["clips_seen"], 6 * c.train.batch);
    EXPECT_EQ(s["frames_seen"], 6 * c.train.batch * c.train.frames);
    EXPECT_DOUBLE_EQ(s["flops"].get<double>(), 6 * log.step_flops);
    EXPECT_EQ(s["validation"].size(), 3u);
    EXPECT_THROW(training_run_summary(fresh_dir("untrained")), Error);
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

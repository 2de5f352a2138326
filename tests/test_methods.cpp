// Properties that must hold for the backbone, the rollout engine, Diffusion
// Forcing, checkpoints and the trainer, on tiny CPU models (the `tiny` preset).
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

namespace dfb {
namespace {

namespace fs = std::filesystem;

RunConfig tiny_config(const std::vector<std::string>& overrides = {}) {
  return parse_run_config(load_config_json("tiny", overrides), "tiny");
}

std::string fresh_dir(const std::string& name) {
  std::string dir = testing::TempDir() + "dfb_methods_" + name;
  fs::remove_all(dir);
  return dir;
}

// Random weights everywhere: the backbone zero-initialises its output layers, which
// would make any "does not depend on" property hold trivially.
void randomize(torch::nn::Module& m, uint64_t seed) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(seed);
  for (auto& p : m.parameters()) p.normal_(0.0, 0.2);
}

// Runs `fn` with LibTorch on one thread (bitwise-reproducible reductions), then restores.
template <class Fn>
void single_threaded(Fn fn) {
  const int before = at::get_num_threads();
  at::set_num_threads(1);
  fn();
  at::set_num_threads(before);
}

TEST(Unet3d, KeepsTheShapeForAnyWindowUpToItsMaximum) {
  RunConfig c = tiny_config();
  Backbone b = build_backbone(c);
  EXPECT_EQ(b->max_frames(), c.train.frames);
  for (int64_t t : {int64_t{1}, int64_t{2}, c.train.frames}) {
    torch::Tensor x = torch::randn({2, t, 3, 16, 16});
    torch::Tensor y = b->forward(x, torch::rand({2, t}));
    EXPECT_EQ(y.sizes(), x.sizes());
  }
  EXPECT_THROW(b->forward(torch::randn({1, c.train.frames + 1, 3, 16, 16}), torch::rand({1, c.train.frames + 1})),
               std::exception);
}

TEST(Unet3d, CausalOutputAtTIgnoresLaterFrames) {
  RunConfig c = tiny_config();
  Backbone b = build_backbone(c);
  ASSERT_TRUE(b->causal());
  randomize(*b, 1);
  b->eval();
  torch::NoGradGuard no_grad;
  torch::manual_seed(2);
  torch::Tensor x = torch::randn({2, 4, 3, 16, 16}), lv = torch::rand({2, 4});
  torch::Tensor y = b->forward(x, lv);
  for (int64_t t = 0; t < 3; ++t) {
    torch::Tensor x2 = x.clone(), lv2 = lv.clone();
    x2.slice(1, t + 1) += torch::randn_like(x2.slice(1, t + 1)) * 3;
    lv2.slice(1, t + 1).fill_(0.9);
    torch::Tensor y2 = b->forward(x2, lv2);
    EXPECT_LT((y2.slice(1, 0, t + 1) - y.slice(1, 0, t + 1)).abs().max().item<float>(), 1e-5) << "t = " << t;
    EXPECT_GT((y2.slice(1, t + 1) - y.slice(1, t + 1)).abs().max().item<float>(), 1e-3) << "later frames must matter";
  }
}

TEST(Unet3d, BidirectionalOutputAtTSeesLaterFrames) {
  // The same check must fail without the mask, or the causality test above proves nothing.
  RunConfig c = tiny_config();
  ConfigErrors errors;
  nlohmann::json options = c.backbone;
  options.erase("causal");  // the resolved config records the method's choice (causal)
  JsonReader r(options, "backbone", errors);
  Backbone b = make_backbone(r, BackboneShape{3, 16, c.train.frames, /*causal=*/false});
  ASSERT_TRUE(errors.empty());
  ASSERT_FALSE(b->causal());
  randomize(*b, 1);
  torch::NoGradGuard no_grad;
  torch::Tensor x = torch::randn({1, 4, 3, 16, 16}), lv = torch::rand({1, 4});
  torch::Tensor x2 = x.clone();
  x2.slice(1, 3) += 3;
  EXPECT_GT((b->forward(x2, lv).select(1, 0) - b->forward(x, lv).select(1, 0)).abs().max().item<float>(), 1e-4);
}

TEST(Unet3d, EachFrameUsesItsOwnLevel) {
  RunConfig c = tiny_config();
  Backbone b = build_backbone(c);
  randomize(*b, 3);
  torch::NoGradGuard no_grad;
  torch::Tensor x = torch::randn({1, 3, 3, 16, 16}), lv = torch::full({1, 3}, 0.5);
  torch::Tensor lv2 = lv.clone();
  lv2[0][2] = 0.1;
  torch::Tensor y = b->forward(x, lv), y2 = b->forward(x, lv2);
  EXPECT_LT((y2.slice(1, 0, 2) - y.slice(1, 0, 2)).abs().max().item<float>(), 1e-5);
  EXPECT_GT((y2.select(1, 2) - y.select(1, 2)).abs().max().item<float>(), 1e-4);
}

class HistoryCache : public ::testing::TestWithParam<std::string> {};

TEST_P(HistoryCache, EqualsTheWholeWindow) {
  RunConfig c = tiny_config({"backbone.position=" + GetParam()});
  Backbone b = build_backbone(c);
  ASSERT_TRUE(b->supports_history());
  randomize(*b, 9);
  torch::NoGradGuard no_grad;
  torch::Tensor x = torch::randn({2, 4, 3, 16, 16}), lv = torch::rand({2, 4});
  torch::Tensor whole = b->forward(x, lv);
  for (int64_t p : {1, 2, 3}) {  // history of p frames, then 4 − p new ones (several: the causal mask applies)
    b->set_history(x.slice(1, 0, p), lv.slice(1, 0, p));
    EXPECT_EQ(b->history_frames(), p);
    torch::Tensor after = b->forward_after_history(x.slice(1, p), lv.slice(1, p));
    EXPECT_LT((after - whole.slice(1, p)).abs().max().item<float>(), 1e-4) << "history of " << p;
  }
  EXPECT_THROW(b->forward_after_history(x.slice(0, 0, 1).slice(1, 3), lv.slice(0, 0, 1).slice(1, 3)), Error);
}

INSTANTIATE_TEST_SUITE_P(Positions, HistoryCache, ::testing::Values("rotary", "learned"));

TEST(HistoryCache, RolloutsAgreeWithAndWithoutIt) {
  for (std::string mode : {"autoregressive", "pyramid"}) {
    RunConfig c = tiny_config({"method.scheduling=" + mode, "method.chunk=2"});
    Diffusion diffusion(c.diffusion);
    Backbone backbone = build_backbone(c);
    randomize(*backbone, 10);
    auto method = build_method(c);
    torch::NoGradGuard no_grad;
    torch::Tensor context = torch::rand({2, 2, 3, 16, 16}) * 2 - 1;
    RolloutOptions ro;
    ro.steps = 3;
    auto run = [&](bool cache) {
      Denoiser d(backbone, diffusion);
      d.set_history_cache(cache);
      at::Generator gen = make_generator(3);
      return method->rollout(d, context, 9, ro, gen);
    };
    EXPECT_LT((run(true) - run(false)).abs().max().item<float>(), 1e-3) << mode;
  }
}

TEST(RotaryPositions, ScoresDependOnTheOffsetOnly) {
  torch::manual_seed(5);
  // The same q and k at every position: q_i · k_j after rotation must depend on i − j only.
  torch::Tensor q = torch::randn({1, 8}).expand({6, 8}).contiguous(), k = torch::randn({1, 8}).expand({6, 8}).contiguous();
  torch::Tensor s = torch::matmul(rotary_positions(q), rotary_positions(k).t());  // [6, 6]
  for (int64_t i = 1; i < 6; ++i)
    for (int64_t j = 1; j < 6; ++j) EXPECT_NEAR(s[i][j].item<float>(), s[i - 1][j - 1].item<float>(), 1e-4);
  EXPECT_GT((s[0][1] - s[0][2]).abs().item<float>(), 1e-3) << "different offsets must differ";
  // A rotation: norms are kept, and position 0 is unchanged.
  EXPECT_TRUE(torch::allclose(rotary_positions(q).norm(2, -1), q.norm(2, -1), 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(rotary_positions(q)[0], q[0]));
  // first_position shifts the positions: rows 2.. of a rotation from 0 are a rotation from 2.
  EXPECT_TRUE(torch::allclose(rotary_positions(q).slice(0, 2), rotary_positions(q.slice(0, 2), 2), 1e-5, 1e-5));
}

TEST(DiffusionForcing, TrainingLevelsAreIndependentUniformPerFrame) {
  RunConfig c = tiny_config();
  auto method = build_method(c);
  at::Generator gen = make_generator(11);
  const int64_t n = 1000, batch = 4000, frames = 8;
  TrainLevels tl = method->training_levels(batch, frames, n, gen);
  ASSERT_EQ(tl.levels.sizes(), (std::vector<int64_t>{batch, frames}));
  EXPECT_EQ(tl.levels.min().item<int64_t>(), 0);
  EXPECT_EQ(tl.levels.max().item<int64_t>(), n);
  EXPECT_TRUE(torch::equal(tl.loss_mask, (tl.levels > 0).to(torch::kFloat32)));
  torch::Tensor l = tl.levels.to(torch::kFloat64);
  // U{0..N}: mean N/2, variance ((N+1)² − 1)/12; 32000 draws put the mean within ~1.6 of N/2 (σ).
  EXPECT_NEAR(l.mean().item<double>(), n / 2.0, 5 * std::sqrt((n + 1.0) * (n + 1.0) / 12 / (batch * frames)));
  EXPECT_NEAR(l.var().item<double>(), ((n + 1.0) * (n + 1.0) - 1) / 12, 0.03 * n * n / 12);
  // Chi-square over 10 equal bins (9 degrees of freedom; 27.9 is the 0.999 quantile).
  torch::Tensor bins = torch::bincount(torch::div(tl.levels.reshape(-1) * 10, n + 1, "floor"), {}, 10).to(torch::kFloat64);
  const double expected = batch * frames / 10.0;
  EXPECT_LT(((bins - expected).pow(2) / expected).sum().item<double>(), 27.9);
  // Independence: neighbouring frames are uncorrelated, and so are samples.
  torch::Tensor a = l.slice(1, 0, frames - 1).reshape(-1), b = l.slice(1, 1).reshape(-1);
  const double corr = ((a - a.mean()) * (b - b.mean())).mean().item<double>() / (a.std().item<double>() * b.std().item<double>());
  EXPECT_LT(std::abs(corr), 0.03);
}

TEST(Denoiser, CleanFramesStayBitForBitWithStabilization) {
  RunConfig c = tiny_config();
  Diffusion diffusion(c.diffusion);
  Denoiser d(build_backbone(c), diffusion);
  randomize(d.model(), 4);
  torch::NoGradGuard no_grad;
  at::Generator gen = make_generator(5);
  torch::Tensor x = torch::rand({2, 3, 3, 16, 16}) * 2 - 1;
  torch::Tensor from = torch::tensor({0, 0, 1000}, torch::kLong), to = torch::tensor({0, 0, 500}, torch::kLong);
  StepOptions so;
  so.clean_input_level = 15;
  torch::Tensor y = d.step(x, from, to, so, gen);
  EXPECT_TRUE(torch::equal(y.slice(1, 0, 2), x.slice(1, 0, 2)));
  EXPECT_FALSE(torch::equal(y.select(1, 2), x.select(1, 2)));
  EXPECT_EQ(d.calls(), 1);
}

TEST(Denoiser, HistoryGuidanceMixesPredictionsLinearly) {
  // Without x̂₀ clipping and with η = 0 a step is affine in the prediction, so the guided
  // steps for w = 0, 1, 2 lie on a line; w = 1 is exactly the unguided step.
  RunConfig c = tiny_config({"diffusion.clip_x0=false"});
  Diffusion diffusion(c.diffusion);
  Backbone backbone = build_backbone(c);
  randomize(*backbone, 12);
  torch::NoGradGuard no_grad;
  torch::Tensor x = torch::rand({2, 3, 3, 16, 16}) * 2 - 1;
  torch::Tensor from = torch::tensor({0, 0, 700}, torch::kLong), to = torch::tensor({0, 0, 400}, torch::kLong);
  auto step = [&](double w, int64_t level) {
    Denoiser d(backbone, diffusion);
    at::Generator gen = make_generator(8);
    StepOptions so;
    so.clean_input_level = 15;
    so.guidance = w;
    so.guidance_level = level;
    torch::Tensor y = d.step(x, from, to, so, gen);
    EXPECT_EQ(d.calls(), w == 1.0 ? 1 : 2);
    return y.select(1, 2);
  };
  for (int64_t level : {int64_t{-1}, int64_t{500}}) {  // vanilla (N) and fractional
    torch::Tensor y0 = step(0, level), y1 = step(1, level), y2 = step(2, level);
    EXPECT_LT(((y2 - y1) - (y1 - y0)).abs().max().item<float>(), 1e-4);
    EXPECT_GT((y2 - y1).abs().max().item<float>(), 1e-4) << "guidance must change the step";
  }
  StepOptions plain;
  plain.clean_input_level = 15;
  Denoiser d(backbone, diffusion);
  at::Generator gen = make_generator(8);
  EXPECT_TRUE(torch::equal(step(1, -1), d.step(x, from, to, plain, gen).select(1, 2)));
}

class Rollout : public ::testing::TestWithParam<std::string> {};

TEST_P(Rollout, ShapeContextAndDeterminismFromASeed) {
  RunConfig c = tiny_config({"method.scheduling=" + GetParam(), "method.chunk=2"});
  Diffusion diffusion(c.diffusion);
  Backbone backbone = build_backbone(c);
  randomize(*backbone, 6);
  Denoiser d(backbone, diffusion);
  auto method = build_method(c);
  torch::NoGradGuard no_grad;
  torch::Tensor context = torch::rand({2, 2, 3, 16, 16}) * 2 - 1;
  const int64_t horizon = 3 * c.train.frames;  // well past the window: the window slides
  RolloutOptions ro;
  ro.steps = 3;
  auto run = [&](uint64_t seed) {
    at::Generator gen = make_generator(seed);
    return method->rollout(d, context, horizon, ro, gen);
  };
  torch::Tensor a = run(7), b = run(7), other = run(8);
  EXPECT_EQ(a.sizes(), (std::vector<int64_t>{2, 2 + horizon, 3, 16, 16}));
  EXPECT_TRUE(torch::equal(a.slice(1, 0, 2), context)) << "context must come back unchanged";
  EXPECT_TRUE(torch::equal(a, b)) << "same seed, same rollout";
  EXPECT_FALSE(torch::equal(a, other)) << "another seed, another rollout";
  EXPECT_TRUE(torch::isfinite(a).all().item<bool>());
}

INSTANTIATE_TEST_SUITE_P(Modes, Rollout, ::testing::Values("autoregressive", "full_sequence", "pyramid", "trapezoid"));

TEST(DiffusionForcing, RolloutCallCountFollowsTheSchedulingMatrix) {
  // autoregressive, chunk 1, S steps: S calls per new frame.
  RunConfig c = tiny_config();
  Diffusion diffusion(c.diffusion);
  Denoiser d(build_backbone(c), diffusion);
  auto method = build_method(c);
  torch::NoGradGuard no_grad;
  at::Generator gen = make_generator(1);
  RolloutOptions ro;
  ro.steps = 4;
  method->rollout(d, torch::zeros({1, 2, 3, 16, 16}), 5, ro, gen);
  EXPECT_EQ(d.calls(), 5 * 4);
}

TEST(DiffusionForcing, RejectsAChunkThatLeavesNoHistory) {
  RunConfig c = tiny_config({"method.chunk=4"});
  Diffusion diffusion(c.diffusion);
  Denoiser d(build_backbone(c), diffusion);
  at::Generator gen = make_generator(1);
  torch::NoGradGuard no_grad;
  EXPECT_THROW(build_method(c)->rollout(d, torch::zeros({1, 2, 3, 16, 16}), 4, RolloutOptions{}, gen), Error);
}

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

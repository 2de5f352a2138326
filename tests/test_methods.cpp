// Properties that must hold for the rollout engine and Diffusion Forcing on tiny CPU
// models (the `tiny` preset): training levels, stabilization, history guidance, rollouts.
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

// A causal stand-in that keeps what it was shown and predicts zeros.
class ProbeBackbone : public BackboneImpl {
 public:
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& levels) override {
    seen = x.clone();
    seen_levels = levels.clone();
    return torch::zeros_like(x);
  }
  bool causal() const override { return true; }
  int64_t max_frames() const override { return 8; }
  torch::Tensor seen, seen_levels;
};

// Stabilized history is shown noised to ℓ (ours) or, with scaled_history, as √ᾱ_ℓ·x without
// noise (the Diffusion Forcing paper's DDIM sampling code); labelled ℓ either way; the
// history cache tells the two apart.
TEST(Denoiser, ScaledHistoryIsTheCleanFramesTimesSqrtAlphaBar) {
  DiffusionOptions o;
  const Diffusion diffusion(o);
  auto probe = std::make_shared<ProbeBackbone>();
  Denoiser d(Backbone(probe), diffusion);
  torch::NoGradGuard no_grad;
  torch::manual_seed(2);
  const torch::Tensor history = torch::rand({2, 3, 3, 4, 4}) * 2 - 1, x = torch::randn({2, 1, 3, 4, 4});
  const torch::Tensor from = torch::tensor({1000}, torch::kLong), to = torch::tensor({900}, torch::kLong);
  const int64_t level = 50;
  const double a = std::sqrt(diffusion.alpha_bar()[level].item<double>());
  auto shown = [&](bool scaled) {
    StepOptions so;
    so.clean_input_level = level;
    so.scaled_history = scaled;
    at::Generator gen = make_generator(3);
    d.step_after(history, x, from, to, so, gen);
    EXPECT_TRUE(torch::allclose(probe->seen_levels.slice(1, 0, 3),
                                torch::full({2, 3}, static_cast<float>(level) / 1000.0f)));
    return probe->seen.slice(1, 0, 3);
  };
  const torch::Tensor scaled = shown(true);
  EXPECT_TRUE(torch::allclose(scaled, history * a, 1e-6, 1e-6));
  const torch::Tensor noised = shown(false);
  EXPECT_GT((noised - history * a).abs().max().item<double>(), 1e-3) << "ours adds noise";
  EXPECT_TRUE(torch::allclose(shown(true), history * a, 1e-6, 1e-6)) << "the cache does not keep the noised one";
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

}  // namespace
}  // namespace dfb

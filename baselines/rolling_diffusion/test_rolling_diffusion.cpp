// rolling_diffusion's own test (built into dfbench_tests from this folder): its training
// levels. Shapes, determinism and context of its rollouts are checked for every
// registered method in tests/test_baselines.cpp.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "tensor/compat.h"
#include "pipeline/run_config.h"
#include "pipeline/run_parts.h"

namespace dfb {
namespace {

TEST(RollingDiffusion, TrainingLevelsRiseLinearlyBehindCleanHistoryFromBothProfiles) {
  const RunConfig c =
      parse_run_config(load_config_json("tiny", {"method={\"name\": \"rolling_diffusion\", \"clean\": 2, \"init_share\": 0.3}"}), "tiny");
  at::Generator gen = make_generator(4);
  const int64_t n = 1000, batch = 20000, frames = 6, rolling = 4;
  TrainLevels tl = build_method(c)->training_levels(batch, frames, n, gen);
  ASSERT_EQ(tl.levels.sizes(), (std::vector<int64_t>{batch, frames}));
  EXPECT_TRUE((tl.levels.slice(1, 0, 2) == 0).all().item<bool>()) << "clean history";
  EXPECT_TRUE((tl.loss_mask.slice(1, 0, 2) == 0).all().item<bool>()) << "no loss on the history";
  torch::Tensor roll = tl.levels.slice(1, 2).to(torch::kFloat64);
  // Consecutive rolling frames are N/R apart (up to rounding), except where the init profile
  // reaches pure noise (then less, never negative): the linear profile.
  torch::Tensor steps = roll.slice(1, 1) - roll.slice(1, 0, -1);
  torch::Tensor unclamped = roll.slice(1, 1) < n;
  EXPECT_LE((steps - static_cast<double>(n) / rolling).abs().masked_select(unclamped).max().item<double>(), 1.0);
  EXPECT_GE(steps.min().item<double>(), 0);
  // The front frame: rolling phase τ ~ U[0, 1) puts it uniform on [0, N/R); the init profile
  // (share p = 0.3) uniform on [0, N]. Mixture mean (1 − p)·N/(2R) + p·N/2, and a share
  // p·(1 − 1/R) above N/R (20,000 draws: standard errors about 1.3 and 0.003).
  const double p = 0.3;
  torch::Tensor front = roll.select(1, 0);
  EXPECT_GE(front.min().item<double>(), 0);
  EXPECT_LE(front.max().item<double>(), n);
  EXPECT_NEAR(front.mean().item<double>(), (1 - p) * n / rolling / 2.0 + p * n / 2.0, 6.0);
  EXPECT_NEAR((front > n / rolling).to(torch::kFloat64).mean().item<double>(), p * (1 - 1.0 / rolling), 0.012);
  // The init profile starts from pure noise: some samples are all noise, as the first window is.
  EXPECT_GT((roll == n).all(1).to(torch::kFloat64).mean().item<double>(), 0.0);
  EXPECT_TRUE(torch::equal(tl.loss_mask.slice(1, 2), (tl.levels.slice(1, 2) > 0).to(torch::kFloat32)));
}

}  // namespace
}  // namespace dfb

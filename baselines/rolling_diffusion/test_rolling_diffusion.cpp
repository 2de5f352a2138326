// rolling_diffusion's own test (built into dfbench_tests from this folder): its training
// levels. Shapes, determinism and context of its rollouts are checked for every
// registered method in tests/test_baselines.cpp.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/compat.h"
#include "core/run_config.h"
#include "core/run_parts.h"

namespace dfb {
namespace {

TEST(RollingDiffusion, TrainingLevelsRiseLinearlyBehindCleanHistory) {
  const RunConfig c =
      parse_run_config(load_config_json("tiny", {"method={\"name\": \"rolling_diffusion\", \"clean\": 2}"}), "tiny");
  at::Generator gen = make_generator(4);
  const int64_t n = 1000, batch = 20000, frames = 6, rolling = 4;
  TrainLevels tl = build_method(c)->training_levels(batch, frames, n, gen);
  ASSERT_EQ(tl.levels.sizes(), (std::vector<int64_t>{batch, frames}));
  EXPECT_TRUE((tl.levels.slice(1, 0, 2) == 0).all().item<bool>()) << "clean history";
  EXPECT_TRUE((tl.loss_mask.slice(1, 0, 2) == 0).all().item<bool>()) << "no loss on the history";
  torch::Tensor roll = tl.levels.slice(1, 2).to(torch::kFloat64);
  // Consecutive rolling frames are N/R apart (up to rounding): the linear profile.
  torch::Tensor steps = roll.slice(1, 1) - roll.slice(1, 0, -1);
  EXPECT_LE((steps - static_cast<double>(n) / rolling).abs().max().item<double>(), 1.0);
  // The phase τ is uniform: the front frame's level is uniform on [0, N/R).
  torch::Tensor front = roll.select(1, 0);
  EXPECT_GE(front.min().item<double>(), 0);
  EXPECT_LE(front.max().item<double>(), n / rolling);
  EXPECT_NEAR(front.mean().item<double>(), n / rolling / 2.0, 3.0);
  EXPECT_TRUE(torch::equal(tl.loss_mask.slice(1, 2), (tl.levels.slice(1, 2) > 0).to(torch::kFloat32)));
}

}  // namespace
}  // namespace dfb

// fifo_diffusion's own tests (built into dfbench_tests from this folder): the queue's levels at
// every call of a pass against the formula, its cost per frame, and that it trains as
// full_sequence. Shapes, determinism and context of its rollouts are checked for every
// registered method in tests/test_baselines.cpp; that reproduce does not train it twice, in
// tests/test_pipeline.cpp.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "base/error.h"
#include "baselines/fifo_diffusion/fifo_plan.h"
#include "base/json_reader.h"
#include "pipeline/run_config.h"
#include "pipeline/run_parts.h"
#include "rollout/denoiser.h"
#include "tensor/compat.h"

namespace dfb {
namespace {

Diffusion diffusion_of(int64_t levels) {
  DiffusionOptions o;
  o.levels = levels;
  return Diffusion(o);
}

// τ_i = round(i·N / (n·f)) for the slot at queue index i − 1, τ_0 = 0.
int64_t tau(int64_t i, int64_t n_levels, int64_t slots) {
  return static_cast<int64_t>(std::llround(static_cast<double>(i) * n_levels / slots));
}

void check_plan(int64_t f, int64_t n, bool lookahead, int64_t n_levels) {
  SCOPED_TRACE("f=" + std::to_string(f) + " n=" + std::to_string(n) + (lookahead ? " lookahead" : ""));
  const FifoPlan plan = fifo_plan(f, n, lookahead, diffusion_of(n_levels));
  const int64_t slots = n * f, pad = lookahead ? f / 2 : 0;
  ASSERT_EQ(plan.pad, pad);
  ASSERT_EQ(plan.levels.size(), static_cast<size_t>(pad + slots));
  for (int64_t p = 0; p < pad + slots; ++p)
    EXPECT_EQ(plan.levels[p], tau(std::max<int64_t>(p - pad, 0) + 1, n_levels, slots)) << "position " << p;
  EXPECT_EQ(plan.levels.back(), n_levels) << "the tail is pure noise";
  ASSERT_EQ(plan.calls.size(), static_cast<size_t>(lookahead ? 2 * n : n));
  std::vector<int> written(static_cast<size_t>(pad + slots), 0);
  int64_t lowest_written = pad + slots;  // what earlier calls of the pass wrote starts here
  for (const FifoCall& c : plan.calls) {
    ASSERT_EQ(c.from.size(), static_cast<size_t>(f));
    ASSERT_EQ(c.to.size(), static_cast<size_t>(f));
    EXPECT_LE(c.begin + f, lowest_written) << "a call reads only frames no earlier call of the pass wrote";
    EXPECT_EQ(c.write_begin, c.begin + (lookahead ? f / 2 : 0)) << "lookahead writes the second half";
    for (int64_t k = 0; k < f; ++k) {
      const int64_t p = c.begin + k, slot = p - pad;
      EXPECT_EQ(c.from[k], plan.levels[p]);
      EXPECT_EQ(c.to[k], slot < 0 ? plan.levels[p] : tau(slot, n_levels, slots)) << "one level down, τ_0 = 0";
      if (p >= c.write_begin) ++written[p];
    }
    lowest_written = c.write_begin;
  }
  for (int64_t p = 0; p < pad + slots; ++p) EXPECT_EQ(written[p], p < pad ? 0 : 1) << "position " << p;
  EXPECT_EQ(plan.calls.front().to.back(), tau(slots - 1, n_levels, slots));
  EXPECT_EQ(plan.calls.back().to[plan.output() - plan.calls.back().begin], 0) << "the head leaves clean";
}

TEST(FifoPlan, EveryCallMovesEverySlotOneDiagonalLevelDown) {
  check_plan(8, 4, true, 1000);
  check_plan(8, 2, true, 1000);
  check_plan(4, 1, true, 1000);
  check_plan(8, 4, false, 1000);
  check_plan(6, 3, false, 50);
  check_plan(2, 5, true, 10);
  // The printed plan is the plan.
  const nlohmann::json j = to_json(fifo_plan(4, 2, true, diffusion_of(1000)));
  EXPECT_EQ(j["pad"], 2);
  EXPECT_EQ(j["calls"].size(), 4u);
  EXPECT_EQ(j["calls"][0]["begin"], 6);
  EXPECT_EQ(j["levels"], nlohmann::json({125, 125, 125, 250, 375, 500, 625, 750, 875, 1000}));
}

TEST(FifoPlan, RefusesWhatItCannotPlan) {
  const Diffusion d = diffusion_of(1000);
  EXPECT_THROW(fifo_plan(7, 2, true, d), Error) << "lookahead needs an even window";
  EXPECT_NO_THROW(fifo_plan(7, 2, false, d));
  EXPECT_THROW(fifo_plan(1, 2, false, d), Error);
  EXPECT_THROW(fifo_plan(4, 0, false, d), Error);
}

RunConfig tiny_fifo(const std::string& options) {
  const std::string entry = "{\"name\": \"fifo_diffusion\"" + options + "}";
  return parse_run_config(load_config_json("tiny", {"method=" + entry, "methods=[" + entry + "]"}), "tiny");
}

TEST(FifoDiffusion, TrainsAsFullSequence) {
  const RunConfig fifo = tiny_fifo(", \"partitions\": 2, \"lookahead\": false");
  const RunConfig full = parse_run_config(
      load_config_json("tiny", {"method={\"name\": \"full_sequence\"}", "methods=[\"full_sequence\"]"}), "tiny");
  EXPECT_EQ(training_part(fifo.resolved["method"]), training_part(full.resolved["method"]))
      << "its options act at sampling time only, and it names full_sequence's training";
  at::Generator g1 = make_generator(3), g2 = make_generator(3);
  const TrainLevels a = build_method(fifo)->training_levels(64, 4, 1000, g1);
  const TrainLevels b = build_method(full)->training_levels(64, 4, 1000, g2);
  EXPECT_TRUE(torch::equal(a.levels, b.levels));
  EXPECT_TRUE(torch::equal(a.loss_mask, b.loss_mask));
  EXPECT_FALSE(build_method(fifo)->causal());
}

// Backbone calls per generated frame: one per call of the plan (2n with lookahead, n without),
// after the first clip's; the queue keeps n·f frames whatever the horizon.
TEST(FifoDiffusion, EachFrameCostsOnePassOfThePlan) {
  for (const bool lookahead : {true, false}) {
    const RunConfig c = tiny_fifo(std::string(", \"partitions\": 2, \"guidance\": 0, \"lookahead\": ") +
                                  (lookahead ? "true" : "false"));
    const Diffusion diffusion(c.diffusion);
    torch::manual_seed(0);
    Backbone model = build_backbone(c);
    model->eval();
    torch::NoGradGuard no_grad;
    auto method = build_method(c);
    torch::Tensor context = torch::rand({1, 2, 3, 16, 16}) * 2 - 1;
    RolloutOptions ro;
    ro.steps = 3;
    auto calls_for = [&](int64_t horizon) {
      Denoiser d(model, diffusion);
      at::Generator gen = make_generator(1);
      torch::Tensor v = method->rollout(d, context, horizon, ro, gen);
      EXPECT_EQ(v.size(1), 2 + horizon);
      EXPECT_TRUE(torch::isfinite(v).all().item<bool>());
      return d.calls();
    };
    const int64_t per_frame = lookahead ? 4 : 2;
    EXPECT_EQ(calls_for(9) - calls_for(5), 4 * per_frame) << (lookahead ? "lookahead" : "no lookahead");
  }
}

TEST(FifoDiffusion, ASinkNeedsTheCleanFramesOfLookahead) {
  const RunConfig c = tiny_fifo(", \"lookahead\": false");
  const Diffusion diffusion(c.diffusion);
  Backbone model = build_backbone(c);
  torch::NoGradGuard no_grad;
  Denoiser d(model, diffusion);
  RolloutOptions ro;
  ro.sink = 1;
  at::Generator gen = make_generator(1);
  EXPECT_THROW(build_method(c)->rollout(d, torch::zeros({1, 2, 3, 16, 16}), 4, ro, gen), Error);
}

}  // namespace
}  // namespace dfb

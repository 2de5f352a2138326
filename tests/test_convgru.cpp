// The convgru backbone (docs/design.md §3): causal by construction, any number of frames, and a
// history held as its recurrent state — set, extended and read — equal to one run over
// every frame; rollouts that carry the state agree with rollouts that rerun the past.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "tensor/compat.h"
#include "rollout/denoiser.h"
#include "base/error.h"
#include "pipeline/run_config.h"
#include "pipeline/run_parts.h"
#include "tests/tiny_models.h"

namespace dfb {
namespace {

RunConfig tiny_convgru(const std::vector<std::string>& more = {}) {
  std::vector<std::string> overrides = {
      "backbone={\"name\": \"convgru\", \"base\": 8, \"mults\": [1, 2], \"heads\": 2, \"groups\": 4}",
      "methods=[\"diffusion_forcing\"]"};  // the preset's method alone (convgru serves causal methods only)
  overrides.insert(overrides.end(), more.begin(), more.end());
  return parse_run_config(load_config_json("tiny", overrides), "tiny");
}

// Random weights everywhere (the head starts at zero, which would make any independence trivial).
Backbone random_convgru(const RunConfig& c, uint64_t seed) {
  Backbone b = build_backbone(c);
  torch::NoGradGuard no_grad;
  torch::manual_seed(seed);
  for (auto& p : b->parameters()) p.normal_(0.0, 0.2);
  b->eval();
  return b;
}

TEST(Convgru, IsRecurrentCausalAndTakesAnyNumberOfFrames) {
  const RunConfig c = tiny_convgru();
  Backbone b = random_convgru(c, 1);
  EXPECT_TRUE(b->causal());
  EXPECT_TRUE(b->recurrent());
  torch::NoGradGuard no_grad;
  const int64_t t = 3 * c.train.frames;  // past the training window
  torch::Tensor x = torch::randn({2, t, 3, 16, 16}), lv = torch::rand({2, t});
  EXPECT_EQ(b->forward(x, lv).sizes(), x.sizes());
  expect_output_ignores_later_frames(*b, x, lv, {0, 4, 9});
}

TEST(Convgru, StateThroughTheHistoryEqualsOneRun) {
  const RunConfig c = tiny_convgru();
  Backbone b = random_convgru(c, 2);
  torch::NoGradGuard no_grad;
  torch::Tensor x = torch::randn({2, 7, 3, 16, 16}), lv = torch::rand({2, 7});
  torch::Tensor whole = b->forward(x, lv);
  // Set (2 frames), extend (3 more), then read the last 2 without changing the state.
  const std::unique_ptr<BackboneMemory> memory = b->make_memory();
  ASSERT_TRUE(memory);
  memory->assign(x.slice(1, 0, 2), lv.slice(1, 0, 2));
  memory->extend(x.slice(1, 2, 5), lv.slice(1, 2, 5));
  EXPECT_EQ(memory->frames(), 5);
  for (int repeat = 0; repeat < 2; ++repeat) {
    torch::Tensor after = memory->forward(x.slice(1, 5), lv.slice(1, 5));
    EXPECT_LT((after - whole.slice(1, 5)).abs().max().item<float>(), 1e-5) << "read " << repeat;
  }
  EXPECT_THROW(memory->forward(x.slice(0, 0, 1).slice(1, 5), lv.slice(0, 0, 1).slice(1, 5)), Error);
}

TEST(Convgru, RolloutsCarryingTheStateAgreeWithRerunningThePast) {
  // Without stabilization or augmentation noise on the history, so that rerunning the past
  // shows it exactly as the carried state saw it (with it, each rerun would draw new noise).
  const std::vector<std::vector<std::string>> cases = {
      {"method.scheduling=pyramid", "method.chunk=2", "method.stabilization=0"},
      {"method={\"name\": \"teacher_forcing\"}"},
      {"method={\"name\": \"noise_augmented_ar\", \"sample\": 0}"}};
  for (const auto& overrides : cases) {
    const RunConfig c = tiny_convgru(overrides);
    const std::string method = c.method["name"];
    Diffusion diffusion(c.diffusion);
    Backbone b = random_convgru(c, 3);
    auto m = build_method(c);
    torch::NoGradGuard no_grad;
    torch::Tensor context = torch::rand({2, 2, 3, 16, 16}) * 2 - 1;
    RolloutOptions ro;
    ro.steps = 3;
    auto run = [&](bool carry) {
      Denoiser d(b, diffusion);
      d.set_history_cache(carry);  // off: every step reruns the whole past from a zero state
      at::Generator gen = make_generator(4);
      return m->rollout(d, context, 3 * c.train.frames, ro, gen);
    };
    torch::Tensor carried = run(true), rerun = run(false);
    EXPECT_EQ(carried.size(1), 2 + 3 * c.train.frames);
    EXPECT_TRUE(torch::equal(carried.slice(1, 0, 2), context));
    EXPECT_LT((carried - rerun).abs().max().item<float>(), 1e-3) << method;
  }
}

TEST(Convgru, OnlyCausalMethodsAndNoHistoryGuidance) {
  EXPECT_THROW(tiny_convgru({"method={\"name\": \"full_sequence\"}"}), Error);
  // A comparison that lists a method convgru cannot serve is an error naming that entry.
  try {
    tiny_convgru({"methods=[\"diffusion_forcing\", \"full_sequence\"]"});
    ADD_FAILURE() << "full_sequence on convgru was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("methods[1]: with this method, backbone.name"), std::string::npos) << e.what();
  }
  const RunConfig c = tiny_convgru({"method.guidance=1.5"});
  Diffusion diffusion(c.diffusion);
  Denoiser d(random_convgru(c, 5), diffusion);
  torch::NoGradGuard no_grad;
  at::Generator gen = make_generator(0);
  try {
    build_method(c)->rollout(d, torch::zeros({1, 2, 3, 16, 16}), 2, RolloutOptions{}, gen);
    FAIL() << "history guidance on convgru must be refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("history guidance"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace dfb

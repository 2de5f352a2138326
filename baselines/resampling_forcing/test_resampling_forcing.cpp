// resampling_forcing's own tests (built into dfbench_tests from this folder): the history it
// trains on is the model's own regeneration, made without gradient, and the targets stay clean.
// Shapes, determinism, causality and context of its rollouts are checked for every registered
// method in tests/test_baselines.cpp.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "backbones/backbone.h"
#include "pipeline/run_config.h"
#include "pipeline/run_parts.h"
#include "tensor/compat.h"
#include "train/training_loss.h"

namespace dfb {
namespace {

// A causal stand-in that predicts zeros and keeps the input of its last call.
class ZeroProbe : public BackboneImpl {
 public:
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor&) override {
    seen = x.detach().clone();
    ++calls;
    return torch::zeros_like(x);
  }
  bool causal() const override { return true; }
  int64_t max_frames() const override { return 6; }
  torch::Tensor seen;
  int calls = 0;
};

RunConfig tiny_method(const std::string& entry) {
  return parse_run_config(load_config_json("tiny", {"method=" + entry, "methods=[" + entry + "]"}), "tiny");
}

TEST(ResamplingForcing, TrainsOnItsOwnHistoryWithCleanTargets) {
  const RunConfig rf = tiny_method("{\"name\": \"resampling_forcing\"}");
  const RunConfig tf = tiny_method("{\"name\": \"teacher_forcing\"}");
  const Diffusion diffusion(rf.diffusion);
  torch::manual_seed(1);
  const torch::Tensor x0 = torch::rand({16, 6, 3, 8, 8}) * 2 - 1;
  auto loss_of = [&](const RunConfig& c, ZeroProbe& probe, double progress) {
    at::Generator gen = make_generator(21);
    return training_loss(probe, *build_method(c), diffusion, x0, gen, Precision::kFp32, progress).item<double>();
  };
  ZeroProbe with_rf, with_tf, warming;
  const double l_rf = loss_of(rf, with_rf, 1.0), l_tf = loss_of(tf, with_tf, 1.0);
  // The same levels and ε as teacher forcing (drawn first, from the same generator), and the
  // same targets: a network that predicts zeros has the same loss, so the targets are x0's.
  EXPECT_DOUBLE_EQ(l_rf, l_tf) << "the targets stay clean";
  EXPECT_EQ(with_tf.calls, 1);
  EXPECT_GT(with_rf.calls, 1) << "the model regenerated the history before the loss's call";
  // The loss's input: teacher forcing shows x0 at the history frames, resampling forcing its own
  // regeneration (a zero prediction makes x̂₀ = √ᾱ·x_ℓ, never x0).
  at::Generator g = make_generator(21);
  const TrainLevels tl = build_method(tf)->training_levels(16, 6, diffusion.num_levels(), g);
  const torch::Tensor history = (tl.levels == 0).reshape({16, 6, 1, 1, 1}).expand_as(x0);
  ASSERT_GT(history.sum().item<int64_t>(), 0);
  EXPECT_TRUE(torch::equal(with_tf.seen.masked_select(history), x0.masked_select(history)));
  EXPECT_GT((with_rf.seen - x0).abs().masked_select(history).max().item<double>(), 1e-3);
  EXPECT_TRUE(torch::equal(with_rf.seen.masked_select(~history), with_tf.seen.masked_select(~history)))
      << "the target and later frames are as teacher forcing makes them";
  // Warmup: plain teacher forcing for the first share of training.
  EXPECT_DOUBLE_EQ(loss_of(rf, warming, 0.1), l_tf);
  EXPECT_EQ(warming.calls, 1);
}

// The gradient of the loss reaches x0 through the target frame only: the regenerated history
// is made without gradient (teacher forcing's history, the same frames given as they are, passes
// gradient). A real network, so the history does shape the prediction.
TEST(ResamplingForcing, NoGradientFlowsThroughTheResampledFrames) {
  const Diffusion diffusion(tiny_method("{\"name\": \"resampling_forcing\"}").diffusion);
  auto history_gradient = [&](const std::string& method) {
    const RunConfig c = tiny_method("{\"name\": \"" + method + "\"}");
    torch::manual_seed(2);
    Backbone model = build_backbone(c);
    for (auto& p : model->parameters()) p.detach().normal_(0.0, 0.2);
    torch::Tensor x0 = (torch::rand({4, 4, 3, 16, 16}) * 2 - 1).requires_grad_(true);
    at::Generator gen = make_generator(5);
    const torch::Tensor loss = training_loss(*model, *build_method(c), diffusion, x0, gen);
    const torch::Tensor grad = torch::autograd::grad({loss}, {x0})[0];
    at::Generator g = make_generator(5);
    const TrainLevels tl = build_method(c)->training_levels(4, 4, diffusion.num_levels(), g);
    const torch::Tensor history = (tl.levels == 0).reshape({4, 4, 1, 1, 1}).expand_as(grad);
    EXPECT_GT(grad.masked_select(tl.loss_mask.reshape({4, 4, 1, 1, 1}).expand_as(grad) > 0).abs().max().item<double>(), 0)
        << method << ": the target frame carries gradient";
    return grad.masked_select(history).abs().max().item<double>();
  };
  EXPECT_EQ(history_gradient("resampling_forcing"), 0.0);
  EXPECT_GT(history_gradient("teacher_forcing"), 0.0);
}

}  // namespace
}  // namespace dfb

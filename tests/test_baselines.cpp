// Every registered method on a tiny CPU model (so a new method is covered the moment it
// registers): a few training steps, a rollout to 3x its window, shapes, determinism from a
// seed, the context coming back unchanged. Then each baseline's training levels against
// its distribution (docs/design.md §4), with fixed seeds.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "tensor/compat.h"
#include "rollout/denoiser.h"
#include "base/error.h"
#include "train/optim.h"
#include "baselines/full_sequence/replacement_rollout.h"
#include "base/registry.h"
#include "pipeline/run_config.h"
#include "pipeline/run_parts.h"
#include "train/training_loss.h"

namespace dfb {
namespace {

// The tiny preset with one method entry (a JSON object) as its whole comparison.
RunConfig tiny_with_entry(const std::string& entry, const std::string& backbone = "") {
  std::vector<std::string> overrides = {"method=" + entry, "methods=[" + entry + "]"};
  if (!backbone.empty()) overrides.push_back("backbone=" + backbone);
  return parse_run_config(load_config_json("tiny", overrides), "tiny");
}

RunConfig tiny_with(const std::string& method, const std::string& backbone = "") {
  // That method alone (the preset's comparison lists others the backbone may not serve).
  return tiny_with_entry("{\"name\": \"" + method + "\"}", backbone);
}

std::vector<std::string> registered_methods() { return Registry<MethodFactory>::instance().names(); }

TEST(EveryMethod, TheComparisonIsRegistered) {
  const std::vector<std::string> names = registered_methods();
  for (const char* m : {"diffusion_forcing", "teacher_forcing", "noise_augmented_ar", "full_sequence_causal",
                        "full_sequence"})
    EXPECT_NE(std::find(names.begin(), names.end(), m), names.end()) << m << " is not registered";
}

// A few training steps, then rollouts to 3x the window: shapes, context, determinism.
void train_and_roll_out(const RunConfig& c) {
  const Diffusion diffusion(c.diffusion);
  auto method = build_method(c);
  torch::manual_seed(0);
  Backbone model = build_backbone(c);
  EXPECT_EQ(model->causal(), method->causal()) << "the backbone follows the method's attention";

  // A few training steps: the loss is finite and the weights move.
  NamedTensors params = named_tensors(*model);
  FlatParameters flat(params);
  AdamW adam(flat, {});
  torch::Tensor x0 = torch::rand({4, c.train.frames, 3, 16, 16}) * 2 - 1;
  torch::Tensor before = params.back().second.clone();
  for (int step = 0; step < 3; ++step) {
    at::Generator gen = make_generator(step);
    torch::Tensor loss = training_loss(*model, *method, diffusion, x0, gen);
    ASSERT_TRUE(std::isfinite(loss.item<double>()));
    adam.zero_grad();
    loss.backward();
    adam.step(1e-3);
  }
  EXPECT_FALSE(torch::equal(before, params.back().second));

  model->eval();
  torch::NoGradGuard no_grad;
  Denoiser d(model, diffusion);
  torch::Tensor context = torch::rand({2, 2, 3, 16, 16}) * 2 - 1;
  const int64_t horizon = 3 * c.train.frames;
  RolloutOptions ro;
  ro.steps = 3;
  int64_t reported = 0;
  ro.on_frames = [&](int64_t made) {
    EXPECT_GT(made, reported);
    reported = made;
  };
  auto run = [&](uint64_t seed) {
    reported = 0;
    at::Generator gen = make_generator(seed);
    return method->rollout(d, context, horizon, ro, gen);
  };
  torch::Tensor a = run(1), b = run(1), other = run(2);
  EXPECT_EQ(reported, horizon) << "progress reaches the horizon";
  EXPECT_EQ(a.sizes(), (std::vector<int64_t>{2, 2 + horizon, 3, 16, 16}));
  EXPECT_TRUE(torch::equal(a.slice(1, 0, 2), context)) << "context must come back unchanged";
  EXPECT_TRUE(torch::equal(a, b)) << "same seed, same rollout";
  EXPECT_FALSE(torch::equal(a, other)) << "another seed, another rollout";
  EXPECT_TRUE(torch::isfinite(a).all().item<bool>());
}

class EveryMethod : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryMethod, TrainsAndRollsOutPastItsWindow) { train_and_roll_out(tiny_with(GetParam())); }

INSTANTIATE_TEST_SUITE_P(Registered, EveryMethod, ::testing::ValuesIn(registered_methods()));

// Every causal method again on the recurrent backbone, whose rollouts carry a state.
std::vector<std::string> causal_methods() {
  std::vector<std::string> out;
  for (const std::string& m : registered_methods())
    if (build_method(tiny_with(m))->causal()) out.push_back(m);
  return out;
}

class EveryCausalMethod : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryCausalMethod, TrainsAndRollsOutOnConvgru) {
  train_and_roll_out(
      tiny_with(GetParam(), "{\"name\": \"convgru\", \"base\": 8, \"mults\": [1, 2], \"heads\": 2, \"groups\": 4}"));
}

INSTANTIATE_TEST_SUITE_P(Registered, EveryCausalMethod, ::testing::ValuesIn(causal_methods()));

// The network every causal method trains (on either backbone), with random weights: its output at
// frame t must not change when frames after t do.
TEST_P(EveryCausalMethod, OutputAtTIgnoresLaterFrames) {
  for (const std::string backbone : {"", "{\"name\": \"convgru\", \"base\": 8, \"mults\": [1, 2], \"heads\": 2, \"groups\": 4}"}) {
    const RunConfig c = tiny_with(GetParam(), backbone);
    Backbone b = build_backbone(c);
    ASSERT_TRUE(b->causal());
    torch::NoGradGuard no_grad;
    torch::manual_seed(4);
    for (auto& p : b->parameters()) p.normal_(0.0, 0.2);
    const int64_t t = c.train.frames;
    torch::Tensor x = torch::randn({1, t, 3, 16, 16}), lv = torch::rand({1, t});
    torch::Tensor y = b->forward(x, lv);
    for (int64_t s = 0; s + 1 < t; ++s) {
      torch::Tensor x2 = x.clone();
      x2.slice(1, s + 1) += 2;
      torch::Tensor y2 = b->forward(x2, lv);
      EXPECT_LT((y2.slice(1, 0, s + 1) - y.slice(1, 0, s + 1)).abs().max().item<float>(), 1e-5) << backbone << " t=" << s;
      EXPECT_GT((y2.slice(1, s + 1) - y.slice(1, s + 1)).abs().max().item<float>(), 1e-4) << backbone << " t=" << s;
    }
  }
}

// ---------------------------------------------------------------- training levels

constexpr int64_t kLevels = 1000, kBatch = 20000, kFrames = 6;

TrainLevels levels_of(const std::string& method, uint64_t seed) {
  at::Generator gen = make_generator(seed);
  return build_method(tiny_with(method))->training_levels(kBatch, kFrames, kLevels, gen);
}

// Index of the one frame per sample that carries the loss.
torch::Tensor target_index(const TrainLevels& tl) {
  EXPECT_TRUE(torch::equal(tl.loss_mask.sum(1), torch::ones({kBatch}))) << "exactly one frame carries the loss";
  return tl.loss_mask.argmax(1);
}

// Chi-square statistic of integer samples against the uniform distribution on {low..high}.
double chi_square_uniform(const torch::Tensor& x, int64_t low, int64_t high, int64_t bins) {
  torch::Tensor b = torch::div((x.reshape(-1) - low) * bins, high - low + 1, "floor");
  torch::Tensor counts = torch::bincount(b, {}, bins).to(torch::kFloat64);
  const double expected = static_cast<double>(x.numel()) / bins;
  return ((counts - expected).pow(2) / expected).sum().item<double>();
}

TEST(TrainingLevels, TeacherForcing) {
  TrainLevels tl = levels_of("teacher_forcing", 1);
  torch::Tensor c = target_index(tl);
  EXPECT_EQ(c.min().item<int64_t>(), 1);
  EXPECT_EQ(c.max().item<int64_t>(), kFrames - 1);
  EXPECT_LT(chi_square_uniform(c, 1, kFrames - 1, kFrames - 1), 18.5);  // 4 dof, 0.999 quantile
  torch::Tensor t = torch::arange(kFrames).unsqueeze(0);
  torch::Tensor target_level = tl.levels.gather(1, c.unsqueeze(1));
  EXPECT_GE(target_level.min().item<int64_t>(), 1);
  EXPECT_LT(chi_square_uniform(target_level, 1, kLevels, 10), 27.9);  // 9 dof
  EXPECT_TRUE((tl.levels.masked_select(t < c.unsqueeze(1)) == 0).all().item<bool>()) << "clean context";
  EXPECT_TRUE((tl.levels.masked_select(t > c.unsqueeze(1)) == kLevels).all().item<bool>()) << "future at N";
}

TEST(TrainingLevels, NoiseAugmentedSharesOneContextLevel) {
  TrainLevels tl = levels_of("noise_augmented_ar", 2);
  torch::Tensor c = target_index(tl);
  torch::Tensor t = torch::arange(kFrames).unsqueeze(0);
  // Samples whose target is the last frame have kFrames − 1 context frames: all at one level a.
  torch::Tensor last = (c == kFrames - 1).nonzero().squeeze(1);
  torch::Tensor ctx = tl.levels.index_select(0, last).slice(1, 0, kFrames - 1);
  EXPECT_TRUE(torch::equal(ctx, ctx.select(1, 0).unsqueeze(1).expand_as(ctx))) << "one augmentation level per sample";
  // a ~ U{0..0.3 N}: over all samples with context (c >= 1, always).
  torch::Tensor a = tl.levels.select(1, 0);
  EXPECT_EQ(a.min().item<int64_t>(), 0);
  EXPECT_EQ(a.max().item<int64_t>(), 300);
  EXPECT_LT(chi_square_uniform(a, 0, 300, 10), 27.9);
  EXPECT_TRUE((tl.levels.masked_select(t > c.unsqueeze(1)) == kLevels).all().item<bool>());
}

TEST(TrainingLevels, FullSequenceOneLevelForAllFrames) {
  for (const char* m : {"full_sequence", "full_sequence_causal"}) {
    TrainLevels tl = levels_of(m, 3);
    torch::Tensor first = tl.levels.select(1, 0);
    EXPECT_TRUE(torch::equal(tl.levels, first.unsqueeze(1).expand_as(tl.levels))) << m;
    EXPECT_TRUE(torch::equal(tl.loss_mask, torch::ones_like(tl.loss_mask))) << m;
    EXPECT_GE(first.min().item<int64_t>(), 1) << m;
    EXPECT_EQ(first.max().item<int64_t>(), kLevels) << m;
    EXPECT_LT(chi_square_uniform(first, 1, kLevels, 10), 27.9) << m;
  }
}

// conditioning "clean" (docs/design.md §4.5): a clean prefix of c ~ U{1..T−1} frames without
// loss, then one shared level for the frames that carry it.
TEST(TrainingLevels, CleanConditioningHasACleanPrefixAndOneLevelAfterIt) {
  for (const char* m : {"full_sequence", "full_sequence_causal"}) {
    const RunConfig c = tiny_with_entry(std::string("{\"name\": \"") + m + "\", \"conditioning\": \"clean\"}");
    at::Generator gen = make_generator(5);
    const TrainLevels tl = build_method(c)->training_levels(kBatch, kFrames, kLevels, gen);
    torch::Tensor t = torch::arange(kFrames).unsqueeze(0).expand({kBatch, kFrames});
    torch::Tensor prefix = (tl.levels == 0).to(torch::kLong).cumprod(1).sum(1);  // leading clean frames
    EXPECT_EQ(prefix.min().item<int64_t>(), 1) << m;
    EXPECT_EQ(prefix.max().item<int64_t>(), kFrames - 1) << m;
    EXPECT_LT(chi_square_uniform(prefix, 1, kFrames - 1, kFrames - 1), 18.5) << m;  // 4 dof, 0.999 quantile
    torch::Tensor generated = t >= prefix.unsqueeze(1);
    EXPECT_TRUE(torch::equal(tl.loss_mask, generated.to(torch::kFloat32))) << m << ": loss on the generated frames only";
    torch::Tensor last = tl.levels.select(1, kFrames - 1);
    EXPECT_TRUE(torch::equal(torch::where(generated, tl.levels, last.unsqueeze(1).expand_as(tl.levels)),
                             last.unsqueeze(1).expand_as(tl.levels)))
        << m << ": one level for every generated frame";
    EXPECT_GE(last.min().item<int64_t>(), 1) << m;
    EXPECT_EQ(last.max().item<int64_t>(), kLevels) << m;
    EXPECT_LT(chi_square_uniform(last, 1, kLevels, 10), 27.9) << m;  // 9 dof
  }
}

TEST(CleanConditioning, TrainsAndRollsOutBehindACleanHistory) {
  for (const char* m : {"full_sequence", "full_sequence_causal"})
    train_and_roll_out(tiny_with_entry(std::string("{\"name\": \"") + m + "\", \"conditioning\": \"clean\"}"));
  train_and_roll_out(
      tiny_with_entry("{\"name\": \"full_sequence_causal\", \"conditioning\": \"clean\"}",
                      "{\"name\": \"convgru\", \"base\": 8, \"mults\": [1, 2], \"heads\": 2, \"groups\": 4}"));
}

TEST(CleanConditioning, HasNoReconstructionGuidanceAndAKeepBelowTheWindow) {
  EXPECT_THROW(tiny_with_entry("{\"name\": \"full_sequence\", \"conditioning\": \"clean\", \"guidance\": 2.0}"), Error);
  EXPECT_THROW(tiny_with_entry("{\"name\": \"full_sequence\", \"conditioning\": \"frozen\"}"), Error);
  const RunConfig c = tiny_with_entry("{\"name\": \"full_sequence\", \"conditioning\": \"clean\", \"keep\": 4}");
  const Diffusion diffusion(c.diffusion);
  Backbone model = build_backbone(c);  // a window of 4 frames (train.frames of tiny)
  Denoiser d(model, diffusion);
  torch::NoGradGuard no_grad;
  at::Generator gen = make_generator(1);
  EXPECT_THROW(build_method(c)->rollout(d, torch::zeros({1, 2, 3, 16, 16}), 4, RolloutOptions{}, gen), Error);
}

// ---------------------------------------------------------------- attention sink

TEST(AttentionSink, KeepsTheFirstFramesAheadOfTheRecentOnes) {
  // Frame t holds the value t.
  const torch::Tensor video = torch::arange(10, torch::kFloat32).reshape({1, 10, 1, 1, 1});
  auto frames = [](const torch::Tensor& h) {
    std::vector<int64_t> out;
    for (int64_t t = 0; t < h.size(1); ++t) out.push_back(static_cast<int64_t>(h[0][t].item<float>()));
    return out;
  };
  EXPECT_EQ(frames(window_history(video, 9, 4, 0)), (std::vector<int64_t>{5, 6, 7, 8})) << "no sink: the last frames";
  EXPECT_EQ(frames(window_history(video, 9, 4, 2)), (std::vector<int64_t>{0, 1, 7, 8}));
  EXPECT_EQ(frames(window_history(video, 9, 4, 9)), (std::vector<int64_t>{0, 1, 2, 8})) << "at least one recent frame";
  EXPECT_EQ(frames(window_history(video, 4, 4, 2)), (std::vector<int64_t>{0, 1, 2, 3})) << "nothing dropped yet";
  EXPECT_EQ(frames(window_history(video, 3, 3, 2)), (std::vector<int64_t>{0, 1, 2}));
  // Every windowed method: the same rollout while everything fits the window, another after.
  for (const std::string& m : registered_methods()) {
    const RunConfig c = tiny_with(m);
    const Diffusion diffusion(c.diffusion);
    torch::manual_seed(3);
    Backbone model = build_backbone(c);
    torch::NoGradGuard no_grad;
    for (auto& p : model->parameters()) p.normal_(0.0, 0.2);
    Denoiser d(model, diffusion);
    const torch::Tensor context = torch::rand({1, 2, 3, 16, 16}) * 2 - 1;
    auto run = [&](int64_t sink, int64_t horizon) {
      RolloutOptions ro;
      ro.steps = 2;
      ro.sink = sink;
      at::Generator gen = make_generator(9);
      return build_method(c)->rollout(d, context, horizon, ro, gen);
    };
    const int64_t short_horizon = 1;  // 2 context + 1 new frame fit the window of 4
    EXPECT_TRUE(torch::equal(run(0, short_horizon), run(1, short_horizon))) << m;
    const torch::Tensor without = run(0, 12), with = run(1, 12);
    EXPECT_TRUE(torch::equal(with.slice(1, 0, 2), context)) << m;
    EXPECT_FALSE(torch::equal(without, with)) << m << ": the sink changes what the window shows";
  }
}

// ---------------------------------------------------------------- reconstruction guidance

// A bidirectional stand-in whose prediction is c times the mean over frames: x̂₀ is linear in
// the input, so the guidance gradient has a closed form.
class MeanBackbone : public BackboneImpl {
 public:
  explicit MeanBackbone(double c) : c_(c) {}
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor&) override {
    return c_ * x.mean(1, /*keepdim=*/true).expand_as(x);
  }
  bool causal() const override { return false; }
  int64_t max_frames() const override { return 8; }

 private:
  double c_;
};

TEST(ReconstructionGuidance, MovesTheNewFramesAlongTheClosedFormGradient) {
  DiffusionOptions o;  // v-prediction
  const Diffusion diffusion(o);
  const double c = 0.7, w = 3.0;
  const int64_t level = 400, k = 2, h = 3, T = k + h;
  Denoiser d(std::make_shared<MeanBackbone>(c), diffusion);
  torch::manual_seed(11);
  auto small = [](int64_t f) { return torch::randn({2, f, 3, 4, 4}) * 0.1; };  // far from x̂₀'s clamp at ±1
  torch::Tensor kept = small(k), noised = small(k), chunk = small(h);
  const double abar = diffusion.alpha_bar()[level].item<double>(), a = std::sqrt(abar), s = std::sqrt(1 - abar);

  // x̂₀,t = a·x_t − s·c·m with m the mean over all T frames, so ∂x̂₀,kept/∂z_j = −s·c/T and
  // ∇_{z_j} Σ_kept ‖kept − x̂₀‖² = (2·s·c/T) Σ_kept (kept − x̂₀).
  torch::Tensor window = torch::cat({noised, chunk}, 1);
  torch::Tensor x0 = a * window - s * c * window.mean(1, true);
  torch::Tensor gradient = (2 * s * c / T) * (kept - x0.slice(1, 0, k)).sum(1, true);
  torch::Tensor expected_x0 = x0.slice(1, k) - (w * a / 2) * gradient;
  torch::Tensor expected_eps = (chunk - a * expected_x0) / s;

  Diffusion::Estimate got;
  {
    torch::InferenceMode inference;  // as inside a sampler's rollout
    got = reconstruction_guided(d, kept, noised, chunk, level, w);
  }
  EXPECT_LT((got.x0 - expected_x0).abs().max().item<double>(), 1e-5);
  EXPECT_LT((got.eps - expected_eps).abs().max().item<double>(), 1e-5);
  EXPECT_GT((expected_x0 - x0.slice(1, k)).abs().max().item<double>(), 1e-3) << "the test must move x̂₀";

  Diffusion::Estimate plain = reconstruction_guided(d, kept, noised, chunk, level, 0.0);
  EXPECT_LT((plain.x0 - x0.slice(1, k)).abs().max().item<double>(), 1e-6) << "w = 0: the plain estimate";
}

TEST(ReconstructionGuidance, IsAnOptionOfFullSequenceOnly) {
  const RunConfig guided = parse_run_config(
      load_config_json("tiny", {"method={\"name\": \"full_sequence\", \"guidance\": 2.0}", "methods=[\"full_sequence\"]"}), "tiny");
  EXPECT_EQ(guided.method["guidance"].get<double>(), 2.0);
  EXPECT_THROW(parse_run_config(load_config_json("tiny", {"method={\"name\": \"full_sequence_causal\", \"guidance\": 2.0}"}),
                                "tiny"),
               Error);
  // On a tiny model: guided rollouts keep shape and context, and differ from replacement only.
  Diffusion diffusion(guided.diffusion);
  Backbone b = build_backbone(guided);
  {
    torch::NoGradGuard no_grad;
    torch::manual_seed(2);
    for (auto& p : b->parameters()) p.normal_(0.0, 0.2);
  }
  torch::Tensor context = torch::rand({2, 2, 3, 16, 16}) * 2 - 1;
  RolloutOptions ro;
  ro.steps = 3;
  auto run = [&](double w) {
    Denoiser d(b, diffusion);
    at::Generator gen = make_generator(7);
    torch::InferenceMode inference;
    return replacement_rollout(d, context, 6, ro, 2, gen, w);
  };
  torch::Tensor with = run(2.0), without = run(0.0);
  EXPECT_EQ(with.sizes(), without.sizes());
  EXPECT_TRUE(torch::equal(with.slice(1, 0, 2), context));
  EXPECT_TRUE(torch::isfinite(with).all().item<bool>());
  EXPECT_GT((with - without).abs().max().item<float>(), 1e-4);
}

}  // namespace
}  // namespace dfb

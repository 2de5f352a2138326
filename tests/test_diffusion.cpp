// The diffusion core against closed forms (docs/design.md §2), the attention function
// against its reference, AdamW against LibTorch's, and the scheduling matrices
// against the formulas of docs/design.md §4 on a grid.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "backbones/backbone.h"
#include "tensor/compat.h"
#include "diffusion/diffusion.h"
#include "base/error.h"
#include "base/json_reader.h"
#include "train/optim.h"
#include "methods/diffusion_forcing/scheduling.h"

namespace dfb {
namespace {

torch::Tensor levels_grid(int64_t n) {
  // [2, 6]: a spread of levels, 1..N (ℓ = 0 is where x0/eps conversions are singular).
  return torch::tensor(std::vector<int64_t>{1, 10, 100, 500, 900, n, 3, 50, 250, 700, 990, n - 1}).reshape({2, 6});
}

double max_abs(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); }

class Schedules : public ::testing::TestWithParam<std::string> {};

TEST_P(Schedules, AlphaBarStartsAtOneAndDecreases) {
  DiffusionOptions o;
  o.schedule = GetParam();
  torch::Tensor ab = make_alpha_bar(o);
  ASSERT_EQ(ab.size(0), o.levels + 1);
  EXPECT_EQ(ab[0].item<double>(), 1.0);
  EXPECT_TRUE((ab.slice(0, 1) <= ab.slice(0, 0, -1)).all().item<bool>()) << "ᾱ must be non-increasing";
  EXPECT_GT(ab[o.levels].item<double>(), 0.0);
  EXPECT_LT(ab[o.levels].item<double>(), 0.01) << "level N should be (nearly) pure noise";

  o.zero_terminal_snr = true;
  torch::Tensor z = make_alpha_bar(o);
  EXPECT_NEAR(z[0].item<double>(), 1.0, 1e-12);
  EXPECT_NEAR(z[o.levels].item<double>(), 0.0, 1e-12);
  EXPECT_TRUE((z.slice(0, 1) <= z.slice(0, 0, -1)).all().item<bool>());
}

INSTANTIATE_TEST_SUITE_P(All, Schedules, ::testing::Values("cosine", "linear", "sigmoid"));

TEST(Diffusion, CosineMatchesClosedForm) {
  // Nichol & Dhariwal: ᾱ(t) = f(t) / f(0), f(t) = cos²((t + s)/(1 + s) · π/2), s = 0.008.
  DiffusionOptions o;
  torch::Tensor ab = make_alpha_bar(o);
  auto f = [](double t) { return std::pow(std::cos((t + 0.008) / 1.008 * M_PI / 2), 2); };
  for (int64_t l : {1, 100, 500, 900, 990})
    EXPECT_NEAR(ab[l].item<double>(), f(l / 1000.0) / f(0), 1e-9) << "level " << l;
}

TEST(Diffusion, LinearMatchesClosedForm) {
  // ᾱ_ℓ = Π_{i ≤ ℓ} (1 − β_i), β linear from 1e-4 to 0.02 over N steps.
  DiffusionOptions o;
  o.schedule = "linear";
  torch::Tensor ab = make_alpha_bar(o);
  double prod = 1;
  for (int64_t i = 1; i <= 1000; ++i) {
    prod *= 1 - (1e-4 + (0.02 - 1e-4) * (i - 1) / 999.0);
    if (i == 1 || i == 10 || i == 500 || i == 1000) {
      EXPECT_NEAR(ab[i].item<double>(), prod, 1e-12) << i;
    }
  }
}

TEST(Diffusion, LevelOfStepRounds) {
  Diffusion d(DiffusionOptions{});
  EXPECT_EQ(d.level_of_step(0, 10), 0);
  EXPECT_EQ(d.level_of_step(10, 10), 1000);
  EXPECT_EQ(d.level_of_step(1, 3), 333);
  EXPECT_EQ(d.level_of_step(2, 3), 667);
}

class Predictions : public ::testing::TestWithParam<std::string> {};

// Frames at a spread of levels, noised with a known ε, and the estimates from the exact target.
struct ExactCase {
  Diffusion d;
  torch::Tensor x0, eps, lv, xt;
  Diffusion::Estimate est;
  ExactCase(const std::string& prediction, uint64_t seed, std::vector<int64_t> shape) : d(options(prediction)) {
    torch::manual_seed(seed);
    x0 = torch::rand(shape, torch::kFloat64) * 2 - 1;
    eps = torch::randn(shape, torch::kFloat64);
    lv = levels_grid(d.num_levels());
    xt = d.q_sample(x0, lv, eps);
    est = d.estimate(xt, d.target(x0, eps, lv), lv);
  }
  static DiffusionOptions options(const std::string& prediction) {
    DiffusionOptions o;
    o.prediction = prediction;
    o.clip_x0 = false;
    return o;
  }
};

TEST_P(Predictions, TargetAndEstimateAreInverses) {
  ExactCase c(GetParam(), 0, {2, 6, 3, 4, 4});
  // x0 from eps divides by √ᾱ, tiny near N: allow for that amplification of rounding.
  EXPECT_LT(max_abs(c.est.x0, c.x0), GetParam() == "eps" ? 1e-6 : 1e-10);
  EXPECT_LT(max_abs(c.est.eps, c.eps), GetParam() == "x0" ? 1e-6 : 1e-10);
  // v = √ᾱ ε − √(1−ᾱ) x0 by definition, whatever the target.
  torch::Tensor ab = c.d.alpha_bar().index_select(0, c.lv.reshape(-1)).reshape({2, 6, 1, 1, 1});
  EXPECT_LT(max_abs(c.d.v_from(c.x0, c.eps, c.lv), ab.sqrt() * c.eps - (1 - ab).sqrt() * c.x0), 1e-12);
  EXPECT_LT(max_abs(c.xt, ab.sqrt() * c.x0 + (1 - ab).sqrt() * c.eps), 1e-12);
}

TEST_P(Predictions, DdimStepFromExactEstimatesRecoversX0) {
  ExactCase c(GetParam(), 1, {2, 6, 1, 3, 3});
  at::Generator gen = make_generator(0);
  EXPECT_LT(max_abs(c.d.ddim_step(c.xt, c.est, c.lv, torch::zeros_like(c.lv), 0.0, gen), c.x0), 1e-6);
  // To an intermediate level with η = 0: exactly the forward process with the same ε.
  torch::Tensor mid = torch::div(c.lv, 2, "floor");
  EXPECT_LT(max_abs(c.d.ddim_step(c.xt, c.est, c.lv, mid, 0.0, gen), c.d.q_sample(c.x0, mid, c.eps)), 1e-6);
}

INSTANTIATE_TEST_SUITE_P(All, Predictions, ::testing::Values("v", "eps", "x0"));

TEST(Diffusion, DdimLeavesFramesWithEqualLevelsUntouched) {
  Diffusion d(DiffusionOptions{});
  torch::Tensor x = torch::randn({1, 3, 1, 2, 2});
  Diffusion::Estimate e{torch::zeros_like(x), torch::zeros_like(x)};
  torch::Tensor from = torch::tensor({{0, 500, 1000}}, torch::kLong), to = torch::tensor({{0, 500, 800}}, torch::kLong);
  at::Generator gen = make_generator(3);
  torch::Tensor y = d.ddim_step(x, e, from, to, 1.0, gen);
  EXPECT_TRUE(torch::equal(y.slice(1, 0, 2), x.slice(1, 0, 2)));
  EXPECT_FALSE(torch::equal(y.slice(1, 2), x.slice(1, 2)));
}

TEST(Diffusion, DdimStochasticStepHasTheRightVariance) {
  // With η = 1 and x̂₀ = 0, ε̂ = 0, the step adds σ·z with σ² = (1−ᾱ_to)/(1−ᾱ_from)·(1 − ᾱ_from/ᾱ_to).
  Diffusion d(DiffusionOptions{});
  torch::Tensor x = torch::zeros({1, 1, 1, 200, 200});
  Diffusion::Estimate e{torch::zeros_like(x), torch::zeros_like(x)};
  torch::Tensor from = torch::full({1, 1}, 600, torch::kLong), to = torch::full({1, 1}, 300, torch::kLong);
  at::Generator gen = make_generator(4);
  torch::Tensor y = d.ddim_step(x, e, from, to, 1.0, gen);
  const double af = d.alpha_bar()[600].item<double>(), at = d.alpha_bar()[300].item<double>();
  const double var = (1 - at) / (1 - af) * (1 - af / at);
  EXPECT_NEAR(y.var().item<double>(), var, 0.03 * var);
}

TEST(Diffusion, MinSnrWeightsFollowTheFormula) {
  for (std::string weight : {"min_snr", "floored_min_snr"})
  for (std::string pred : {"v", "eps", "x0"}) {
    if (weight == "floored_min_snr" && pred == "eps") continue;  // refused by the config reader
    DiffusionOptions o;
    o.prediction = pred;
    o.loss_weight = weight;
    Diffusion d(o);
    torch::Tensor lv = torch::tensor({{0, 1, 50, 300, 700, 1000}}, torch::kLong);
    torch::Tensor w = d.loss_weights(lv);
    EXPECT_EQ(w[0][0].item<float>(), 0.0f) << "a clean frame carries no loss";
    for (int64_t t = 1; t < 6; ++t) {
      const double ab = d.alpha_bar()[lv[0][t].item<int64_t>()].item<double>(), snr = ab / (1 - ab);
      const double clipped = std::min(weight == "min_snr" ? snr : std::max(snr, 1.0), 5.0);
      const double want = pred == "v" ? clipped / (snr + 1) : pred == "eps" ? clipped / snr : clipped;
      EXPECT_NEAR(w[0][t].item<float>(), want, 1e-5 * std::max(1.0, want)) << weight << " " << pred << " level " << lv[0][t].item<int64_t>();
    }
  }
}

TEST(Diffusion, FlooredMinSnrIsRefusedWhereItsWeightHasNoBound) {
  auto errors_of = [](const nlohmann::json& j) {
    ConfigErrors errors;
    JsonReader r(j, "diffusion", errors);
    DiffusionOptions o;
    read_options(r, o);
    return errors.lines();
  };
  EXPECT_TRUE(errors_of({{"loss_weight", "floored_min_snr"}}).empty());
  const std::vector<std::string> eps = errors_of({{"loss_weight", "floored_min_snr"}, {"prediction", "eps"}});
  ASSERT_EQ(eps.size(), 1u);
  EXPECT_NE(eps[0].find("diffusion.loss_weight"), std::string::npos) << eps[0];
  EXPECT_EQ(errors_of({{"loss_weight", "floored_min_snr"}, {"snr_gamma", 0.5}}).size(), 1u);
}

TEST(Diffusion, LossIsTheMeanOverFramesThatCarryLoss) {
  DiffusionOptions o;
  o.loss_weight = "uniform";
  Diffusion d(o);
  torch::Tensor pred = torch::zeros({1, 3, 1, 2, 2});
  torch::Tensor target = torch::stack({torch::full({1, 2, 2}, 1.0), torch::full({1, 2, 2}, 2.0),
                                       torch::full({1, 2, 2}, 3.0)}).unsqueeze(0);
  torch::Tensor lv = torch::tensor({{10, 20, 30}}, torch::kLong);
  torch::Tensor mask = torch::tensor({{1.f, 0.f, 1.f}});
  // (1² + 3²) / 2 frames = 5; the masked frame's error (4) does not count.
  EXPECT_NEAR(d.loss(pred, target, lv, mask).item<double>(), 5.0, 1e-6);
  // A frame at level 0 has weight 0 even when the mask keeps it.
  torch::Tensor lv0 = torch::tensor({{0, 20, 30}}, torch::kLong);
  EXPECT_NEAR(d.loss(pred, target, lv0, mask).item<double>(), 9.0 / 2, 1e-6);
}

TEST(Diffusion, NoiseIsClippedAndSeeded) {
  DiffusionOptions o;
  o.clip_noise = 1.0;
  Diffusion d(o);
  torch::Tensor like = torch::zeros({4, 1000});
  at::Generator g1 = make_generator(7), g2 = make_generator(7);
  torch::Tensor a = d.noise_like(like, g1), b = d.noise_like(like, g2);
  EXPECT_TRUE(torch::equal(a, b));
  EXPECT_LE(a.abs().max().item<float>(), 1.0f);
  EXPECT_GT(a.abs().max().item<float>(), 0.99f);
}

TEST(Attention, MatchesReferenceWithAndWithoutCausalMask) {
  torch::manual_seed(2);
  torch::Tensor q = torch::randn({3, 2, 7, 8}), k = torch::randn({3, 2, 7, 8}), v = torch::randn({3, 2, 7, 8});
  for (bool causal : {false, true})
    EXPECT_LT(max_abs(attention(q, k, v, causal), attention_reference(q, k, v, causal)), 1e-5);
  // Products above the small-matrix size take the other path on LibTorch 1.13.
  torch::Tensor big = torch::randn({2, 2, 70, 8});
  for (bool causal : {false, true})
    EXPECT_LT(max_abs(attention(big, big * 0.5, big, causal), attention_reference(big, big * 0.5, big, causal)), 1e-5);
  // Queries after a prefix: the last 3 positions of a causal attention over 7.
  for (bool causal : {false, true}) {
    torch::Tensor last = attention(q.slice(2, 4), k, v, causal);
    EXPECT_LT(max_abs(last, attention_reference(q, k, v, causal).slice(2, 4)), 1e-5) << causal;
    EXPECT_LT(max_abs(last, attention_reference(q.slice(2, 4), k, v, causal)), 1e-5) << causal;
  }
  // The gradients agree too (training runs through the same path).
  torch::Tensor qa = q.clone().requires_grad_(true), qb = q.clone().requires_grad_(true);
  attention(qa, k, v, true).pow(2).sum().backward();
  attention_reference(qb, k, v, true).pow(2).sum().backward();
  EXPECT_LT(max_abs(qa.grad(), qb.grad()), 1e-4);
  // Causal: query 0 sees only key 0, so its output is v[..., 0, :].
  EXPECT_LT(max_abs(attention_reference(q, k, v, true).select(2, 0), v.select(2, 0)), 1e-6);
  // The reference is softmax(q kᵀ / √d) v.
  torch::Tensor want = torch::softmax(torch::matmul(q, k.transpose(-1, -2)) / std::sqrt(8.0), -1).matmul(v);
  EXPECT_LT(max_abs(attention_reference(q, k, v, false), want), 1e-6);
}

TEST(AdamW, MatchesLibTorchAdamW) {
  torch::manual_seed(3);
  torch::Tensor w0 = torch::randn({5, 4});
  torch::Tensor a = w0.clone().requires_grad_(true), b = w0.clone().requires_grad_(true);
  FlatParameters packed({{"w", a}});
  AdamW mine(packed, AdamWOptions{0.9, 0.99, 1e-8, 0.1});
  torch::optim::AdamW theirs({b}, torch::optim::AdamWOptions(0.01).betas({0.9, 0.99}).eps(1e-8).weight_decay(0.1));
  for (int step = 0; step < 20; ++step) {
    torch::Tensor x = torch::randn({3, 5});
    mine.zero_grad();
    theirs.zero_grad();
    torch::matmul(x, a).pow(2).sum().backward();
    torch::matmul(x, b).pow(2).sum().backward();
    mine.step(0.01);
    theirs.step();
  }
  EXPECT_LT(max_abs(a.detach(), b.detach()), 1e-5);
}

TEST(AdamW, StateRoundTripsAndRejectsAMismatch) {
  torch::Tensor p = torch::ones({2, 2}).requires_grad_(true);
  FlatParameters pp({{"p", p}});
  AdamW opt(pp, {});
  p.sum().backward();
  opt.step(0.1);
  std::map<std::string, torch::Tensor> state;
  for (auto& [name, t] : opt.state()) state[name] = t.clone();
  torch::Tensor q = torch::ones({2, 2}).requires_grad_(true);
  FlatParameters qq({{"p", q}});
  AdamW other(qq, {});
  other.load_state(state, opt.steps());
  EXPECT_EQ(other.steps(), 1);
  for (size_t i = 0; i < opt.state().size(); ++i) EXPECT_TRUE(torch::equal(opt.state()[i].second, other.state()[i].second));
  state["m/p"] = torch::zeros({3});
  EXPECT_THROW(other.load_state(state, 1), Error);
}

TEST(Ema, FollowsTheWarmupFormula) {
  torch::Tensor ema = torch::zeros({3}).requires_grad_(true), p = torch::ones({3}).requires_grad_(true);
  FlatParameters e({{"p", ema}}, false), q({{"p", p}}, false);
  ema_update(e, q, 0.99, 0);  // d = min(0.99, 1/10) = 0.1
  EXPECT_NEAR(ema[0].item<float>(), 0.9f, 1e-6);
  ema_update(e, q, 0.5, 1000);  // d = 0.5
  EXPECT_NEAR(ema[0].item<float>(), 0.95f, 1e-6);
  torch::Tensor other = torch::ones({4}).requires_grad_(true);
  EXPECT_THROW(ema_update(e, FlatParameters({{"p", other}}, false), 0.5, 0), Error);
}

TEST(ClipGradNorm, ScalesToTheMaximum) {
  torch::Tensor p = torch::zeros({2}).requires_grad_(true), r = torch::zeros({1}).requires_grad_(true);
  FlatParameters packed({{"p", p}, {"r", r}});
  (p * torch::tensor({3.f, 4.f})).sum().backward();  // r takes no part: its gradient is zero
  EXPECT_NEAR(clip_grad_norm(packed, 1.0).item<double>(), 5.0, 1e-6);
  EXPECT_NEAR(p.grad().norm().item<double>(), 1.0, 1e-5);
  EXPECT_EQ(r.grad().item<float>(), 0.f);
  // Below the maximum, nothing changes; 0 turns clipping off.
  EXPECT_NEAR(clip_grad_norm(packed, 2.0).item<double>(), 1.0, 1e-5);
  EXPECT_NEAR(p.grad().norm().item<double>(), 1.0, 1e-5);
}

// Packing keeps every value, shape and the module's own tensors (now views of one buffer);
// backward accumulates into the packed gradients, and zero_grad clears them.
TEST(FlatParameters, PackedTensorsAreTheModulesOwnAndBackwardFillsTheBuffer) {
  torch::manual_seed(4);
  torch::nn::Linear lin(3, 2);
  const torch::Tensor w0 = lin->weight.detach().clone(), b0 = lin->bias.detach().clone();
  FlatParameters packed(named_tensors(*lin));
  ASSERT_EQ(packed.values().numel(), 8);
  EXPECT_TRUE(torch::equal(lin->weight.detach(), w0));
  EXPECT_TRUE(torch::equal(lin->bias.detach(), b0));
  EXPECT_EQ(lin->weight.data_ptr(), packed.values().data_ptr());  // the module's parameter is the buffer
  const torch::Tensor x = torch::randn({5, 3});
  for (int i = 0; i < 2; ++i) lin->forward(x).sum().backward();  // accumulates: twice the gradient
  EXPECT_TRUE(torch::allclose(lin->bias.grad(), torch::full({2}, 10.f)));
  EXPECT_TRUE(torch::allclose(packed.grads().narrow(0, 6, 2), torch::full({2}, 10.f)));
  packed.zero_grad();
  EXPECT_EQ(packed.grads().abs().sum().item<float>(), 0.f);
  lin->forward(x).sum().backward();
  EXPECT_TRUE(torch::allclose(lin->bias.grad(), torch::full({2}, 5.f)));
  const NamedTensors m = packed.views_of(torch::arange(8, torch::kFloat), "m/");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].first, "m/weight");
  EXPECT_EQ(m[1].second[1].item<float>(), 7.f);
}

// ------------------------------------------------------------------ scheduling

int64_t lag_of(const std::string& mode, int64_t t, int64_t steps, int64_t h, double u) {
  if (mode == "autoregressive") return t * steps;
  if (mode == "pyramid") return static_cast<int64_t>(std::floor(t * u));
  return static_cast<int64_t>(std::floor(std::min(t, h - 1 - t) * u));  // trapezoid
}

TEST(Scheduling, MatchesTheFormulasOnAGrid) {
  for (const std::string& mode : scheduling_modes())
    for (int64_t steps : {1, 3, 10, 25})
      for (int64_t h : {1, 2, 5, 8})
        for (double u : {0.0, 0.5, 1.0, 2.5}) {
          SCOPED_TRACE(mode + " S=" + std::to_string(steps) + " H=" + std::to_string(h) + " U=" + std::to_string(u));
          StepPlan m = scheduling_matrix(mode, steps, h, u);
          if (mode == "full_sequence") {
            ASSERT_EQ(static_cast<int64_t>(m.size()), steps + 1);
            for (int64_t r = 0; r <= steps; ++r)
              for (int64_t t = 0; t < h; ++t) ASSERT_EQ(m[r][t], steps - r);
            continue;
          }
          int64_t max_lag = 0;
          for (int64_t t = 0; t < h; ++t) max_lag = std::max(max_lag, lag_of(mode, t, steps, h, u));
          ASSERT_EQ(static_cast<int64_t>(m.size()), steps + max_lag + 1);
          for (int64_t r = 0; r < static_cast<int64_t>(m.size()); ++r) {
            ASSERT_EQ(static_cast<int64_t>(m[r].size()), h);
            for (int64_t t = 0; t < h; ++t)
              ASSERT_EQ(m[r][t], std::clamp<int64_t>(steps + lag_of(mode, t, steps, h, u) - r, 0, steps));
          }
          // First row all S, last all 0, every column non-increasing.
          for (int64_t t = 0; t < h; ++t) {
            EXPECT_EQ(m.front()[t], steps);
            EXPECT_EQ(m.back()[t], 0);
          }
        }
}

TEST(Scheduling, AutoregressiveStartsEachFrameWhenThePreviousIsClean) {
  StepPlan m = scheduling_matrix("autoregressive", 2, 2, 0);
  StepPlan want = {{2, 2}, {1, 2}, {0, 2}, {0, 1}, {0, 0}};
  EXPECT_EQ(m, want);
}

TEST(Scheduling, RejectsBadArguments) {
  EXPECT_THROW(scheduling_matrix("pyramids", 10, 4), Error);
  EXPECT_THROW(scheduling_matrix("pyramid", 0, 4), Error);
  EXPECT_THROW(scheduling_matrix("pyramid", 10, 0), Error);
  EXPECT_THROW(scheduling_matrix("pyramid", 10, 4, -1), Error);
}

}  // namespace
}  // namespace dfb

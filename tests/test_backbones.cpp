// Properties that must hold for the backbones on tiny CPU models (the `tiny` preset):
// shapes, causality, per-frame levels, the history memory, rotary positions.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <sstream>

#include "backbones/group_norm_silu.h"
#include "backbones/group_norm_silu_cpu.h"
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
  expect_output_ignores_later_frames(*b, x, lv, {0, 1, 2});
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
  const std::unique_ptr<BackboneMemory> memory = b->make_memory();
  ASSERT_TRUE(memory);
  randomize(*b, 9);
  torch::NoGradGuard no_grad;
  torch::Tensor x = torch::randn({2, 4, 3, 16, 16}), lv = torch::rand({2, 4});
  torch::Tensor whole = b->forward(x, lv);
  EXPECT_THROW(memory->forward(x.slice(1, 3), lv.slice(1, 3)), Error);  // nothing assigned yet
  for (int64_t p : {1, 2, 3}) {  // history of p frames, then 4 − p new ones (several: the causal mask applies)
    memory->assign(x.slice(1, 0, p), lv.slice(1, 0, p));
    EXPECT_EQ(memory->frames(), p);
    torch::Tensor after = memory->forward(x.slice(1, p), lv.slice(1, p));
    EXPECT_LT((after - whole.slice(1, p)).abs().max().item<float>(), 1e-4) << "history of " << p;
  }
  EXPECT_THROW(memory->forward(x.slice(0, 0, 1).slice(1, 3), lv.slice(0, 0, 1).slice(1, 3)), Error);
  EXPECT_THROW(memory->extend(x.slice(1, 3), lv.slice(1, 3)), Error);  // a window is assigned, not extended
  // Two memories of one model are independent: a second history does not disturb the first.
  const std::unique_ptr<BackboneMemory> other = b->make_memory();
  other->assign(x.slice(1, 0, 1), lv.slice(1, 0, 1));
  EXPECT_LT((memory->forward(x.slice(1, 3), lv.slice(1, 3)) - whole.slice(1, 3)).abs().max().item<float>(), 1e-4);
  // A bidirectional unet3d keeps no memory: every call sees its whole window.
  EXPECT_FALSE(build_backbone(tiny_config({"method={\"name\": \"full_sequence\"}", "methods=[\"full_sequence\"]"}))->make_memory());
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

// The fused normalization + FiLM + activation equals its composition from LibTorch's operators,
// forward and backward (every input's gradient), in both layouts, with and without FiLM; its
// output and input gradient keep the input's layout; bf16 stays close.
TEST(GroupNormSilu, EqualsTheComposedOperatorsForwardAndBackward) {
  torch::manual_seed(5);
  torch::nn::GroupNorm norm(torch::nn::GroupNormOptions(4, 8));
  {
    torch::NoGradGuard g;
    norm->weight.copy_(torch::rand({8}) + 0.5);
    norm->bias.copy_(torch::randn({8}) * 0.3);
  }
  auto max_abs = [](const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); };
  for (bool channels_last : {false, true}) {
    for (bool film : {false, true}) {
      torch::Tensor x0 = torch::randn({3, 8, 5, 6}) * 2 + 1;
      if (channels_last) x0 = x0.contiguous(torch::MemoryFormat::ChannelsLast);
      torch::Tensor s0 = torch::randn({3, 8}) * 0.4, t0 = torch::randn({3, 8}) * 0.4;
      torch::Tensor outs[2], grads[2][3];
      torch::Tensor w_grads[2][2];
      torch::Tensor dy = torch::randn({3, 8, 5, 6});
      for (int which = 0; which < 2; ++which) {
        torch::Tensor x = x0.clone().requires_grad_(true);
        torch::Tensor s = s0.clone().requires_grad_(true), t = t0.clone().requires_grad_(true);
        norm->zero_grad();
        outs[which] = which == 0 ? group_norm_silu(x, norm, film ? s : torch::Tensor(), film ? t : torch::Tensor())
                                 : group_norm_silu_reference(x, norm, film ? s : torch::Tensor(), film ? t : torch::Tensor());
        (outs[which] * dy).sum().backward();
        grads[which][0] = x.grad();
        grads[which][1] = film ? s.grad() : torch::zeros({1});
        grads[which][2] = film ? t.grad() : torch::zeros({1});
        w_grads[which][0] = norm->weight.grad().clone();
        w_grads[which][1] = norm->bias.grad().clone();
      }
      const std::string label = std::string(channels_last ? "channels-last" : "contiguous") + (film ? ", film" : "");
      EXPECT_LT(max_abs(outs[0], outs[1]), 1e-5) << label;
      for (int i = 0; i < 3; ++i) EXPECT_LT(max_abs(grads[0][i], grads[1][i]), 1e-4) << label << " input " << i;
      EXPECT_LT(max_abs(w_grads[0][0], w_grads[1][0]), 1e-4) << label << " weight";
      EXPECT_LT(max_abs(w_grads[0][1], w_grads[1][1]), 1e-4) << label << " bias";
      if (channels_last) {
        EXPECT_TRUE(outs[0].is_contiguous(torch::MemoryFormat::ChannelsLast)) << label;
        EXPECT_TRUE(grads[0][0].is_contiguous(torch::MemoryFormat::ChannelsLast)) << label;
      }
      // bf16 input (as autocast hands it over): statistics in fp32, output and gradient in bf16 and close.
      {
        torch::Tensor x16 = x0.to(torch::kBFloat16).requires_grad_(true);
        torch::Tensor y = group_norm_silu(x16, norm, film ? s0 : torch::Tensor(), film ? t0 : torch::Tensor());
        (y.to(torch::kFloat) * dy).sum().backward();
        EXPECT_EQ(x16.grad().scalar_type(), torch::kBFloat16);
        const double scale = grads[1][0].abs().max().item<double>();
        EXPECT_LT(max_abs(x16.grad().to(torch::kFloat), grads[1][0]), 0.05 * scale) << label;
      }
      torch::NoGradGuard g;
      torch::Tensor y16 = group_norm_silu(x0.to(torch::kBFloat16), norm, film ? s0 : torch::Tensor(), film ? t0 : torch::Tensor());
      EXPECT_EQ(y16.scalar_type(), torch::kBFloat16);
      EXPECT_LT(max_abs(y16.to(torch::kFloat), outs[1].detach()), 0.1) << label;
    }
    // GroupNorm alone, forward and the input's gradient.
    torch::Tensor x0 = torch::randn({2, 8, 4, 4}) + 3;
    if (channels_last) x0 = x0.contiguous(torch::MemoryFormat::ChannelsLast);
    torch::Tensor xa = x0.clone().requires_grad_(true), xb = x0.clone().requires_grad_(true);
    torch::Tensor ya = group_norm(xa, norm), yb = norm(xb);
    EXPECT_LT(max_abs(ya, yb), 1e-5);
    (ya * ya.detach().sin()).sum().backward();
    (yb * yb.detach().sin()).sum().backward();
    EXPECT_LT(max_abs(xa.grad(), xb.grad()), 1e-4);
  }
}

// The CPU kernels against closed forms in double precision: group statistics over more pixels
// than one partial-sum block, silu over the whole float range (the polynomial exp and its clamp),
// every gradient, NaN kept, bf16 rounded to nearest even from the fp32 result, both layouts.
TEST(GroupNormSiluCpu, KernelsMatchTheirClosedForms) {
  torch::manual_seed(6);
  const int64_t n = 2, c = 16, groups = 4;
  torch::nn::GroupNorm norm(torch::nn::GroupNormOptions(groups, c));
  {
    torch::NoGradGuard g;
    norm->weight.copy_(torch::rand({c}) + 0.5);
    norm->bias.copy_(torch::randn({c}) * 0.3);
  }
  torch::nn::GroupNorm norm_d(torch::nn::GroupNormOptions(groups, c));
  norm_d->to(torch::kDouble);
  {
    torch::NoGradGuard g;
    norm_d->weight.copy_(norm->weight);
    norm_d->bias.copy_(norm->bias);
  }
  auto max_abs = [](const torch::Tensor& a, const torch::Tensor& b) {
    return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
  };
  for (bool channels_last : {false, true}) {
    const auto format = channels_last ? torch::MemoryFormat::ChannelsLast : torch::MemoryFormat::Contiguous;
    const torch::Tensor x0 = (torch::randn({n, c, 17, 9}) * 3 + 40).contiguous(format);  // 153 pixels: 3 blocks
    const torch::Tensor s0 = torch::randn({n, c}) * 0.4, t0 = torch::randn({n, c}) * 0.4, dy = torch::randn({n, c, 17, 9});
    torch::Tensor y[2], grads[2][5];
    gn_cpu::set_preferred(1);  // the kernels, on any CPU (the operation would take LibTorch's operators without AVX-512)
    for (int which = 0; which < 2; ++which) {  // 0: the kernels in fp32, 1: LibTorch's operators in double
      const torch::ScalarType type = which == 0 ? torch::kFloat : torch::kDouble;
      auto leaf = [type](const torch::Tensor& v) { return v.to(type).clone().requires_grad_(true); };
      torch::Tensor x = leaf(x0), s = leaf(s0), t = leaf(t0);
      torch::nn::GroupNorm& m = which == 0 ? norm : norm_d;
      m->zero_grad();
      y[which] = which == 0 ? group_norm_silu(x, m, s, t) : group_norm_silu_reference(x, m, s, t);
      (y[which] * dy.to(type)).sum().backward();
      grads[which][0] = x.grad();
      grads[which][1] = s.grad();
      grads[which][2] = t.grad();
      grads[which][3] = m->weight.grad().clone();
      grads[which][4] = m->bias.grad().clone();
    }
    gn_cpu::set_preferred(-1);
    EXPECT_LT(max_abs(y[0], y[1]), 2e-5);
    for (int i = 0; i < 5; ++i) EXPECT_LT(max_abs(grads[0][i], grads[1][i]), 1e-4 * (1 + grads[1][i].abs().max().item<double>())) << i;
    EXPECT_TRUE(y[0].is_contiguous(format));
    EXPECT_TRUE(grads[0][0].is_contiguous(format));

    // z across ±240, past the exp's clamp both ways: silu(z) to fp32's precision against the
    // same z in double, where silu(z) is a normal float.
    const torch::Tensor x = torch::randn({n, c, 17, 9}).contiguous(format);
    const torch::Tensor gamma = torch::full({c}, 60.0f), beta = torch::zeros({c}), ones = torch::ones({n, c});
    gn_cpu::Forward f = gn_cpu::forward(x, gamma, beta, ones, torch::zeros({n, c}), groups, 1e-5, true);
    const torch::Tensor z = torch::addcmul(f.b.view({n, c, 1, 1}), x, f.a.view({n, c, 1, 1})).to(torch::kDouble);
    const torch::Tensor want = z * torch::sigmoid(z), normal = want.abs() > 1e-30;
    EXPECT_GT(z.max().item<double>(), 90);
    EXPECT_LT(z.min().item<double>(), -90);
    EXPECT_LT(((f.y.to(torch::kDouble) - want).abs() / want.abs()).masked_select(normal).max().item<double>(), 3e-5);
    EXPECT_LT((f.y.to(torch::kDouble) - want).abs().masked_select(~normal).max().item<double>(), 1e-30);

    // A NaN makes its group's statistics NaN, and they reach the output (the NaN-loss check sees it).
    torch::Tensor xn = x.clone();
    xn.index_put_({1, 3, 2, 2}, std::numeric_limits<float>::quiet_NaN());
    const torch::Tensor yn = gn_cpu::forward(xn, gamma, beta, ones, torch::zeros({n, c}), groups, 1e-5, true).y;
    EXPECT_TRUE(yn[1].slice(0, 0, 4).isnan().all().item<bool>());
    EXPECT_FALSE(yn[0].isnan().any().item<bool>());

    // bf16 storage: the fp32 result on the same (bf16) values, rounded to nearest even.
    const torch::Tensor x16 = x0.to(torch::kBFloat16), s1 = s0 + 1;
    const torch::Tensor y16 = gn_cpu::forward(x16, norm->weight, norm->bias, s1, t0, groups, 1e-5, true).y;
    const torch::Tensor y32 = gn_cpu::forward(x16.to(torch::kFloat), norm->weight, norm->bias, s1, t0, groups, 1e-5, true).y;
    EXPECT_EQ(y16.scalar_type(), torch::kBFloat16);
    EXPECT_TRUE(torch::equal(y16, y32.to(torch::kBFloat16)));
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

}  // namespace
}  // namespace dfb

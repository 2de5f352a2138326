// Kernel-level benchmarks of dfbench_bench (the model-level ones are in bench_smoke.cpp):
//   BM_GroupNormSilu/C/H/F  GroupNorm + FiLM + SiLU forward and backward on 96 frames of C channels
//                     at H×H: dfbench's op (F=1) against LibTorch's operators composed (F=0)
//   BM_PeakMatmul/N, BM_PeakConv  the attainable peak (GFLOP/s) of a large product and of a 3x3
//                     convolution, for the roofline (docs/performance.md)
// DFB_PRECISION=fp32|bf16 sets their precision (DFB_BENCH_SET, which reaches the smoke config of
// the model benchmarks, does not apply here).
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "backbones/group_norm_silu.h"
#include "bench/bench_common.h"
#include "tensor/compat.h"

namespace dfb {
namespace {

// The attainable peak: a large square matrix product (Arg: its size) in the benchmarks'
// precision (bf16: autocast, as the model's products run).
void BM_PeakMatmul(benchmark::State& state) {
  const int64_t n = state.range(0);
  torch::manual_seed(0);
  const torch::Tensor a = torch::randn({n, n}), b = torch::randn({n, n});
  const Precision p = bench_precision();
  for (auto _ : state) {
    Autocast autocast(a.device(), p);
    benchmark::DoNotOptimize(torch::mm(a, b));
  }
  set_flop_rate(state, 2.0 * static_cast<double>(n * n * n));
}
BENCHMARK(BM_PeakMatmul)->Arg(1024)->Arg(2048)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);

// The attainable peak of the model's kind of convolution: 3x3, channels-last, 64 -> 64
// channels on 32x32 images, 64 images.
void BM_PeakConv(benchmark::State& state) {
  torch::manual_seed(0);
  const torch::Tensor x = torch::randn({64, 64, 32, 32}).contiguous(torch::MemoryFormat::ChannelsLast);
  const torch::Tensor w = (torch::randn({64, 64, 3, 3}) * 0.05).contiguous(torch::MemoryFormat::ChannelsLast);
  const torch::Tensor bias = torch::zeros({64});
  torch::NoGradGuard no_grad;
  const Precision p = bench_precision();
  for (auto _ : state) {
    Autocast autocast(x.device(), p);
    benchmark::DoNotOptimize(torch::conv2d(x, w, bias, 1, 1));
  }
  set_flop_rate(state, 2.0 * 64 * 64 * 32 * 32 * 64 * 9);
}
BENCHMARK(BM_PeakConv)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);

// The residual blocks' GroupNorm + FiLM + SiLU, forward and backward, on a smoke training batch
// (96 frames, channels-last, 8 groups) of C channels at H×H. Args: C, H, and 1 for dfbench's op
// (backbones/group_norm_silu.h: on the CPU its single-pass kernels) or 0 for the same composed
// from LibTorch's operators, as eager PyTorch computes it. Storage in DFB_PRECISION's type.
void BM_GroupNormSilu(benchmark::State& state) {
  const int64_t c = state.range(0), h = state.range(1), n = 96;
  const bool fused = state.range(2) == 1;
  const torch::ScalarType type = bench_precision() == Precision::kBf16 ? torch::kBFloat16 : torch::kFloat;
  if (!fused && type == torch::kBFloat16) {
    // LibTorch 1.13's CPU GroupNorm takes no bf16 input with fp32 weights (group_norm_silu.h).
    state.SkipWithError("LibTorch's composed GroupNorm takes no bf16 input on the CPU");
    return;
  }
  torch::manual_seed(0);
  torch::nn::GroupNorm norm(torch::nn::GroupNormOptions(8, c));
  const auto cl = torch::MemoryFormat::ChannelsLast;
  const torch::Tensor x0 = torch::randn({n, c, h, h}).to(type).contiguous(cl);
  const torch::Tensor dy = torch::randn({n, c, h, h}).to(type).contiguous(cl);
  const torch::Tensor scale = torch::randn({n, c}).requires_grad_(true), shift = torch::randn({n, c}).requires_grad_(true);
  for (auto _ : state) {
    const torch::Tensor x = x0.detach().requires_grad_(true);
    const torch::Tensor y = fused ? group_norm_silu(x, norm, scale, shift) : group_norm_silu_reference(x, norm, scale, shift);
    y.backward(dy);
    benchmark::DoNotOptimize(x.grad().data_ptr());
  }
  state.counters["Melements/s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * x0.numel()) / 1e6, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_GroupNormSilu)
    ->ArgsProduct({{16}, {32}, {1, 0}})
    ->ArgsProduct({{32}, {16, 8}, {1, 0}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(1.0);

}  // namespace
}  // namespace dfb

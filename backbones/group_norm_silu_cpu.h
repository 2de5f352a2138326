// The CPU kernels of group_norm_silu (docs/design.md §9): each a single pass over the
// activations where LibTorch's operators take two to five, all of one sample's passes in turn
// (its activations stay in the cache between them). Per sample, in the tensor's own
// layout (channels-last: the inner loop runs over the channels; contiguous: over the pixels),
// fp32 or bf16 storage with fp32 arithmetic and double-precision sums, vectorized for the CPU
// it runs on (AVX-512, AVX2 or baseline x86-64, chosen at load time). group_norm_silu.cpp
// holds the same algebra in LibTorch's operators for the other devices.
#pragma once
#include <torch/types.h>

#include <utility>

namespace dfb::gn_cpu {

// Whether these kernels take x: a CPU tensor [N, C, H, W], float32 or bfloat16, contiguous or
// channels-last.
bool supported(const torch::Tensor& x);

// Whether the kernels are worth using on this CPU: where their AVX2 (x86-64-v3) or AVX-512 clone
// runs, not on the baseline clone. DFB_GN_KERNEL=1 forces the kernels, =0 LibTorch's operators.
// docs/performance.md has both measured on AVX-512 and on AVX2 CPUs.
bool preferred();
// Overrides preferred() in this process: 1 the kernels, 0 the operators, −1 back to the CPU's
// choice (tests that check the kernels' own accuracy through the autograd operation).
void set_preferred(int mode);

// The forward pass: z = a·x + b per (sample, channel), with a = r·γ·s1 and
// b = (β − μ·r·γ)·s1 + t from the group's mean μ and inverse standard deviation r (double sums),
// and y = silu(z) (y = z where !activation) in x's layout and dtype. γ, β [C]; s1 = 1 + scale
// and t = shift [N, C]; a, b [N, C] and mean, rstd [N, groups] float32, kept for backward.
struct Forward {
  torch::Tensor y, a, b, mean, rstd;
};
Forward forward(const torch::Tensor& x, const torch::Tensor& gamma, const torch::Tensor& beta, const torch::Tensor& s1,
                const torch::Tensor& t, int64_t groups, double eps, bool activation);

// The backward pass from the input, dy and the forward's a, b, mean and rstd (z recomputed): dx in
// x's layout and dtype; the gradients of γ, β [C] and of scale and shift [N, C], float32.
struct Backward {
  torch::Tensor dx, dgamma, dbeta, dscale, dshift;
};
Backward backward(const torch::Tensor& x, const torch::Tensor& dy, const Forward& saved, const torch::Tensor& gamma,
                  const torch::Tensor& beta, const torch::Tensor& s1, bool activation);

}  // namespace dfb::gn_cpu

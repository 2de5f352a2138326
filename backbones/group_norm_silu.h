// silu(GroupNorm(x)·(1 + scale) + shift) as one autograd operation (docs/design.md §9): the
// residual blocks' normalization, FiLM and activation. Composed from LibTorch's own operators
// it takes eight passes over the activations forward and more backward, and on channels-last
// tensors LibTorch 1.13's GroupNorm backward converts its gradients to the contiguous layout
// and the convolution's backward back again (a tenth of a smoke training step in copies).
// Here, on the CPU (group_norm_silu_cpu.h): one pass for the channel moments, one for
// z = a·x + b and the activation; backward one pass for the two channel sums and one for dx,
// recomputing z from the saved input (z is not kept). Other devices: the same algebra from
// LibTorch's operators (two reductions, a multiply-add and the activation forward; five passes
// backward from the saved pre-activation). Gradients stay in the input's layout; fp32 or bf16
// storage, statistics and sums in fp32 or wider.
#pragma once
#include <torch/nn/modules/normalization.h>
#include <torch/types.h>

namespace dfb {

// x [N, C, H, W]; `norm` supplies the groups, eps, γ and β; scale and shift [N, C] (undefined:
// 0). Equal, up to rounding, to silu(norm(x) * (1 + scale[..., None, None]) + shift[..., None, None]).
torch::Tensor group_norm_silu(const torch::Tensor& x, const torch::nn::GroupNorm& norm,
                              const torch::Tensor& scale = {}, const torch::Tensor& shift = {});

// GroupNorm alone by the same operation (no FiLM, no activation): any layout, fp32 or bf16 input
// (LibTorch 1.13's CPU GroupNorm takes no bf16 input with fp32 weights, as autocast hands it over).
torch::Tensor group_norm(const torch::Tensor& x, const torch::nn::GroupNorm& norm);

// The same composed from LibTorch's operators (the reference the fused path is tested against).
torch::Tensor group_norm_silu_reference(const torch::Tensor& x, const torch::nn::GroupNorm& norm,
                                        const torch::Tensor& scale = {}, const torch::Tensor& shift = {});

}  // namespace dfb

// Every difference between LibTorch 1.13 (Debian, CI) and 2.x (GPU machines)
// lives here and in compat.cpp; no other file tests TORCH_VERSION.
#pragma once
#include <torch/types.h>
#include <torch/version.h>

#include <string>

#define DFB_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

namespace dfb {

// softmax(q kᵀ / sqrt(d)) v over the second-to-last axis; q, k, v are [..., T, d].
// `causal`: query t attends to keys <= t. Uses at::scaled_dot_product_attention on
// LibTorch >= 2.0 and the explicit formula on 1.13.
torch::Tensor attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, bool causal);
// The explicit formula, always (the reference the fused path is tested against).
torch::Tensor attention_reference(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                  bool causal);

std::string torch_version_string();  // e.g. "1.13.1"
bool cuda_available();
// "cpu" or "cuda" (or "cuda:N"); throws dfb::Error when CUDA is asked for but not there.
torch::Device parse_device(const std::string& name);

// A CPU generator seeded with `seed` (the one RNG type dfbench draws from, so
// CPU and GPU runs draw the same numbers).
at::Generator make_generator(uint64_t seed);

}  // namespace dfb

// Every difference between LibTorch 1.13 (Debian, CI) and 2.x (GPU machines)
// lives here and in compat.cpp; no other file tests TORCH_VERSION.
#pragma once
#include <torch/types.h>
#include <torch/version.h>

#include <string>

#include "tensor/precision.h"

#define DFB_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

namespace dfb {

// softmax(q kᵀ / sqrt(d)) v over the second-to-last axis; q is [..., Lq, d], k and v [..., Lk, d]
// with Lq <= Lk. `causal`: the queries are the last Lq positions of the keys' and query i
// attends to keys <= Lk − Lq + i (Lq = Lk: query t to keys <= t). Uses
// at::scaled_dot_product_attention on LibTorch >= 2.0. On 1.13, the explicit formula; where
// each product is small (Lq·Lk·d <= 4096: temporal attention over a few frames), as broadcast
// multiply-and-sum instead of bmm, whose CPU kernel loops over the batch one matrix at a time
// (three small operators per matrix: a third of a smoke training step went there).
torch::Tensor attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, bool causal);
// The explicit formula with bmm, always (the reference the other paths are tested against).
torch::Tensor attention_reference(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                  bool causal);

std::string torch_version_string();  // e.g. "1.13.1"
bool cuda_available();
// "cpu" or "cuda" (or "cuda:N"); throws dfb::Error when CUDA is asked for but not there.
torch::Device parse_device(const std::string& name);

// Autocast for the scope of this object on `device` in `precision` (nothing for fp32): the
// matrix products and convolutions run in bf16, the rest as LibTorch's autocast lists say.
// The outermost guard clears the cast cache on exit (weights change between steps).
class Autocast {
 public:
  Autocast(const torch::Device& device, Precision precision);
  ~Autocast();
  Autocast(const Autocast&) = delete;
  Autocast& operator=(const Autocast&) = delete;

 private:
  bool on_ = false, cuda_ = false, was_enabled_ = false;
  at::ScalarType was_dtype_ = at::kFloat;
};

// A CPU generator seeded with `seed` (the one RNG type dfbench draws from, so
// CPU and GPU runs draw the same numbers).
at::Generator make_generator(uint64_t seed);

}  // namespace dfb

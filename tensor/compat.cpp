#include "tensor/compat.h"

#include <ATen/autocast_mode.h>
#include <torch/torch.h>

#include "base/error.h"

namespace dfb {

namespace {

// Keys a causal query may not see: [Lq, Lk], true above the diagonal that ends at the last key.
torch::Tensor hidden_keys(int64_t lq, int64_t lk, const torch::Device& device) {
  return torch::ones({lq, lk}, torch::TensorOptions().dtype(torch::kBool).device(device)).triu(1 + lk - lq);
}

}  // namespace

torch::Tensor attention_reference(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                  bool causal) {
  const double scale = 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
  torch::Tensor scores = torch::matmul(q, k.transpose(-2, -1)) * scale;
  if (causal) scores = scores.masked_fill(hidden_keys(q.size(-2), k.size(-2), q.device()), -std::numeric_limits<float>::infinity());
  return torch::matmul(torch::softmax(scores, -1), v);
}

torch::Tensor attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, bool causal) {
  const int64_t lq = q.size(-2), lk = k.size(-2), d = q.size(-1);
  causal = causal && lq > 1;  // one query, the last position, sees every key
#if DFB_TORCH_AT_LEAST(2, 0)
  if (causal && lq != lk)
    return at::scaled_dot_product_attention(q, k, v, hidden_keys(lq, lk, q.device()).logical_not(), 0.0, false);
  return at::scaled_dot_product_attention(q, k, v, /*attn_mask=*/{}, /*dropout_p=*/0.0, causal);
#else
  if (lq * lk * d > 4096) return attention_reference(q, k, v, causal);
  const double scale = 1.0 / std::sqrt(static_cast<double>(d));
  torch::Tensor scores = (q.unsqueeze(-2) * k.unsqueeze(-3)).sum(-1) * scale;  // [..., Lq, Lk]
  if (causal) scores = scores.masked_fill(hidden_keys(lq, lk, q.device()), -std::numeric_limits<float>::infinity());
  return (torch::softmax(scores, -1).unsqueeze(-1) * v.unsqueeze(-3)).sum(-2);  // [..., Lq, d]
#endif
}

std::string torch_version_string() { return TORCH_VERSION; }

bool cuda_available() { return torch::cuda::is_available(); }

torch::Device parse_device(const std::string& name) {
  if (name == "cpu") return torch::Device(torch::kCPU);
  if (name.rfind("cuda", 0) == 0) {
    if (!cuda_available())
      throw Error("device '" + name + "' asked for, but this LibTorch sees no CUDA GPU (use --device cpu, "
                  "or build with -DDFB_TORCH_FROM_PYTHON=ON against a CUDA PyTorch)");
    return torch::Device(name);
  }
  throw Error("unknown device '" + name + "' (use cpu or cuda)");
}

namespace {

// The autocast switches of one device type, in the API of this LibTorch (2.4 made them per device).
bool autocast_enabled(bool cuda) {
#if DFB_TORCH_AT_LEAST(2, 4)
  return at::autocast::is_autocast_enabled(cuda ? at::kCUDA : at::kCPU);
#else
  return cuda ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
#endif
}
void set_autocast(bool cuda, bool on) {
#if DFB_TORCH_AT_LEAST(2, 4)
  at::autocast::set_autocast_enabled(cuda ? at::kCUDA : at::kCPU, on);
#else
  if (cuda) at::autocast::set_enabled(on);
  else at::autocast::set_cpu_enabled(on);
#endif
}
at::ScalarType autocast_dtype(bool cuda) {
#if DFB_TORCH_AT_LEAST(2, 4)
  return at::autocast::get_autocast_dtype(cuda ? at::kCUDA : at::kCPU);
#else
  return cuda ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
#endif
}
void set_autocast_dtype(bool cuda, at::ScalarType t) {
#if DFB_TORCH_AT_LEAST(2, 4)
  at::autocast::set_autocast_dtype(cuda ? at::kCUDA : at::kCPU, t);
#else
  if (cuda) at::autocast::set_autocast_gpu_dtype(t);
  else at::autocast::set_autocast_cpu_dtype(t);
#endif
}

}  // namespace

Autocast::Autocast(const torch::Device& device, Precision precision) {
  if (precision == Precision::kFp32) return;
  on_ = true;
  cuda_ = device.is_cuda();
  was_enabled_ = autocast_enabled(cuda_);
  was_dtype_ = autocast_dtype(cuda_);
  set_autocast(cuda_, true);
  set_autocast_dtype(cuda_, at::kBFloat16);
  at::autocast::increment_nesting();
}

Autocast::~Autocast() {
  if (!on_) return;
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  set_autocast_dtype(cuda_, was_dtype_);
  set_autocast(cuda_, was_enabled_);
}

at::Generator make_generator(uint64_t seed) { return at::detail::createCPUGenerator(seed); }

}  // namespace dfb

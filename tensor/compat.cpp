#include "tensor/compat.h"

#include <torch/torch.h>

#include "base/error.h"

namespace dfb {

torch::Tensor attention_reference(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                  bool causal) {
  const double scale = 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
  torch::Tensor scores = torch::matmul(q, k.transpose(-2, -1)) * scale;
  if (causal) {
    const int64_t tq = q.size(-2), tk = k.size(-2);
    torch::Tensor mask = torch::ones({tq, tk}, q.options().dtype(torch::kBool)).triu(1);
    scores = scores.masked_fill(mask, -std::numeric_limits<float>::infinity());
  }
  return torch::matmul(torch::softmax(scores, -1), v);
}

torch::Tensor attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, bool causal) {
#if DFB_TORCH_AT_LEAST(2, 0)
  return at::scaled_dot_product_attention(q, k, v, /*attn_mask=*/{}, /*dropout_p=*/0.0, causal);
#else
  return attention_reference(q, k, v, causal);
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

at::Generator make_generator(uint64_t seed) { return at::detail::createCPUGenerator(seed); }

}  // namespace dfb

#include "train/flat_parameters.h"

#include <torch/torch.h>

#include "base/error.h"

namespace dfb {

FlatParameters::FlatParameters(const NamedTensors& tensors, bool grads) {
  for (const auto& t : tensors)
    if (t.second.requires_grad()) tensors_.push_back(t);
  if (tensors_.empty()) throw Error("FlatParameters: no tensor requires a gradient");
  const torch::TensorOptions options = tensors_.front().second.options().requires_grad(false);
  int64_t total = 0;
  for (const auto& [name, t] : tensors_) {
    if (t.scalar_type() != options.dtype().toScalarType() || t.device() != options.device())
      throw Error("FlatParameters: '" + name + "' is " + std::string(c10::toString(t.scalar_type())) + " on " +
                  t.device().str() + ", the first tensor " + std::string(c10::toString(options.dtype().toScalarType())) +
                  " on " + options.device().str());
    total += t.numel();
  }
  torch::NoGradGuard no_grad;
  values_ = torch::empty({total}, options);
  if (grads) grads_ = torch::zeros({total}, options);
  int64_t offset = 0;
  for (auto& [name, t] : tensors_) {
    const int64_t n = t.numel();
    torch::Tensor view = values_.narrow(0, offset, n).view(t.sizes());
    view.copy_(t);
    t.set_data(view);  // the same tensor (module parameter, autograd leaf), its storage now the buffer's
    if (grads) t.mutable_grad() = grads_.narrow(0, offset, n).view(t.sizes());
    offset += n;
  }
}

void FlatParameters::zero_grad() {
  if (grads_.defined()) grads_.zero_();
}

NamedTensors FlatParameters::views_of(const torch::Tensor& flat, const std::string& prefix) const {
  NamedTensors out;
  int64_t offset = 0;
  for (const auto& [name, t] : tensors_) {
    out.emplace_back(prefix + name, flat.narrow(0, offset, t.numel()).view(t.sizes()));
    offset += t.numel();
  }
  return out;
}

void FlatParameters::check_same_layout(const FlatParameters& other, const std::string& what) const {
  bool same = tensors_.size() == other.tensors_.size();
  for (size_t i = 0; same && i < tensors_.size(); ++i)
    same = tensors_[i].first == other.tensors_[i].first && tensors_[i].second.sizes() == other.tensors_[i].second.sizes();
  if (!same) throw Error(what + ": the two sets of tensors differ in names or shapes");
}

}  // namespace dfb

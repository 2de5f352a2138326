#include "train/optim.h"

#include <torch/torch.h>

#include <cmath>

#include "base/error.h"

namespace dfb {

AdamW::AdamW(FlatParameters& params, AdamWOptions options) : params_(params), o_(options) {
  if (!params_.grads().defined()) throw Error("AdamW: the parameters were packed without gradients");
  m_ = torch::zeros_like(params_.values());
  v_ = torch::zeros_like(params_.values());
}

void AdamW::step(double lr) {
  torch::NoGradGuard no_grad;
  ++steps_;
  const double bc1 = 1 - std::pow(o_.beta1, static_cast<double>(steps_));
  const double bc2 = 1 - std::pow(o_.beta2, static_cast<double>(steps_));
  const torch::Tensor& p = params_.values();
  const torch::Tensor& g = params_.grads();
  m_.mul_(o_.beta1).add_(g, 1 - o_.beta1);
  v_.mul_(o_.beta2).addcmul_(g, g, 1 - o_.beta2);
  if (o_.weight_decay > 0) p.mul_(1 - lr * o_.weight_decay);
  torch::Tensor denom = (v_ / bc2).sqrt_().add_(o_.eps);
  p.addcdiv_(m_, denom, -lr / bc1);
}

void AdamW::zero_grad() { params_.zero_grad(); }

NamedTensors AdamW::state() const {
  const NamedTensors m = params_.views_of(m_, "m/"), v = params_.views_of(v_, "v/");
  NamedTensors out;
  for (size_t i = 0; i < m.size(); ++i) {
    out.push_back(m[i]);
    out.push_back(v[i]);
  }
  return out;
}

void AdamW::load_state(const std::map<std::string, torch::Tensor>& state, int64_t steps) {
  NamedTensors targets = this->state();
  load_named(targets, state, "", "optimizer state");
  steps_ = steps;
}

void ema_update(const FlatParameters& ema, const FlatParameters& params, double decay, int64_t step) {
  ema.check_same_layout(params, "ema_update");
  torch::NoGradGuard no_grad;
  const double d = std::min(decay, (1.0 + static_cast<double>(step)) / (10.0 + static_cast<double>(step)));
  ema.values().mul_(d).add_(params.values(), 1 - d);
}

torch::Tensor clip_grad_norm(const FlatParameters& params, double max_norm) {
  torch::NoGradGuard no_grad;
  const torch::Tensor& g = params.grads();
  torch::Tensor norm = g.pow(2).sum().sqrt();
  if (max_norm > 0) g.mul_((max_norm / (norm + 1e-6)).clamp_max(1.0));
  return norm;
}

void load_named(const NamedTensors& target, const std::map<std::string, torch::Tensor>& source,
                const std::string& prefix, const std::string& what) {
  std::string problems;
  int count = 0;
  for (const auto& t : target) {
    auto it = source.find(prefix + t.first);
    std::string problem;
    if (it == source.end()) problem = "missing '" + prefix + t.first + "'";
    else if (it->second.sizes() != t.second.sizes())
      problem = "'" + prefix + t.first + "' has shape " + c10::str(it->second.sizes()) + ", the model expects " +
                c10::str(t.second.sizes());
    if (!problem.empty()) {
      if (count++ < 3) problems += (problems.empty() ? "" : "; ") + problem;
      continue;
    }
    torch::NoGradGuard no_grad;
    t.second.copy_(it->second);
  }
  if (count > 0)
    throw Error(what + " does not match this model (" + std::to_string(count) + " problem(s): " + problems +
                ") — was it written by a run with another backbone config?");
}

}  // namespace dfb

#include "train/optim.h"

#include <torch/torch.h>

#include <cmath>

#include "base/error.h"

namespace dfb {

AdamW::AdamW(NamedTensors params, AdamWOptions options) : params_(std::move(params)), o_(options) {
  for (const auto& p : params_) {
    m_.push_back(torch::zeros_like(p.second));
    v_.push_back(torch::zeros_like(p.second));
  }
}

void AdamW::step(double lr) {
  torch::NoGradGuard no_grad;
  ++steps_;
  const double bc1 = 1 - std::pow(o_.beta1, static_cast<double>(steps_));
  const double bc2 = 1 - std::pow(o_.beta2, static_cast<double>(steps_));
  for (size_t i = 0; i < params_.size(); ++i) {
    torch::Tensor& p = params_[i].second;
    if (!p.grad().defined()) continue;
    const torch::Tensor& g = p.grad();
    m_[i].mul_(o_.beta1).add_(g, 1 - o_.beta1);
    v_[i].mul_(o_.beta2).addcmul_(g, g, 1 - o_.beta2);
    if (o_.weight_decay > 0) p.mul_(1 - lr * o_.weight_decay);
    torch::Tensor denom = (v_[i] / bc2).sqrt_().add_(o_.eps);
    p.addcdiv_(m_[i], denom, -lr / bc1);
  }
}

void AdamW::zero_grad() {
  for (auto& p : params_)
    if (p.second.grad().defined()) p.second.mutable_grad() = torch::Tensor();
}

NamedTensors AdamW::state() const {
  NamedTensors out;
  for (size_t i = 0; i < params_.size(); ++i) {
    out.emplace_back("m/" + params_[i].first, m_[i]);
    out.emplace_back("v/" + params_[i].first, v_[i]);
  }
  return out;
}

void AdamW::load_state(const std::map<std::string, torch::Tensor>& state, int64_t steps) {
  NamedTensors targets = this->state();
  load_named(targets, state, "", "optimizer state");
  steps_ = steps;
}

void ema_update(const NamedTensors& ema, const NamedTensors& params, double decay, int64_t step) {
  torch::NoGradGuard no_grad;
  const double d = std::min(decay, (1.0 + static_cast<double>(step)) / (10.0 + static_cast<double>(step)));
  for (size_t i = 0; i < ema.size(); ++i) ema[i].second.mul_(d).add_(params[i].second.detach(), 1 - d);
}

double clip_grad_norm(const NamedTensors& params, double max_norm) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> norms;
  for (const auto& p : params)
    if (p.second.grad().defined()) norms.push_back(p.second.grad().pow(2).sum());
  if (norms.empty()) return 0;
  const double total = std::sqrt(torch::stack(norms).sum().item<double>());
  if (max_norm > 0 && total > max_norm) {
    const double scale = max_norm / (total + 1e-6);
    for (const auto& p : params)
      if (p.second.grad().defined()) p.second.grad().mul_(scale);
  }
  return total;
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

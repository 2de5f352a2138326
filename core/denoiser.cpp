#include "core/denoiser.h"

#include <torch/torch.h>

#include "core/error.h"

namespace dfb {

Denoiser::Denoiser(Backbone model, const Diffusion& diffusion) : model_(std::move(model)), diffusion_(diffusion) {}

torch::Tensor Denoiser::noise(int64_t batch, int64_t frames, const torch::Tensor& like, at::Generator& gen) const {
  torch::Tensor eps = torch::randn({batch, frames, like.size(2), like.size(3), like.size(4)}, gen,
                                   torch::TensorOptions().dtype(torch::kFloat32));
  return eps.to(like.device(), like.scalar_type());
}

torch::Tensor Denoiser::step(const torch::Tensor& x, const torch::Tensor& from_in, const torch::Tensor& to_in,
                             const StepOptions& options, at::Generator& gen) {
  const int64_t b = x.size(0), t = x.size(1);
  torch::Tensor from = from_in.dim() == 1 ? from_in.unsqueeze(0).expand({b, t}) : from_in;
  torch::Tensor to = to_in.dim() == 1 ? to_in.unsqueeze(0).expand({b, t}) : to_in;
  from = from.to(torch::kCPU, torch::kLong).contiguous();
  to = to.to(torch::kCPU, torch::kLong).contiguous();
  if (from.size(0) != b || from.size(1) != t || to.sizes() != from.sizes())
    throw Error("Denoiser::step: level plans must be [B, T] = [" + std::to_string(b) + ", " + std::to_string(t) + "]");
  if ((to > from).any().item<bool>()) throw Error("Denoiser::step: a frame's target level is above its current level");
  if (t > window()) throw Error("Denoiser::step: " + std::to_string(t) + " frames exceed the model window of " +
                                std::to_string(window()));

  // The history: leading frames that stay clean in this step in every sample (0 → 0).
  torch::Tensor still = ((from == 0) & (to == 0)).all(0);
  int64_t p = 0;
  while (p < t && still[p].item<bool>()) ++p;
  if (p == t) return x;
  if (p > 0) set_history(x.slice(1, 0, p), options.clean_input_level, gen);
  else history_key_ = torch::Tensor();

  // The other frames: those that stay clean are stabilized afresh, the moving ones shown as they are.
  torch::Tensor rest = x.slice(1, p), rest_from = from.slice(1, p), rest_to = to.slice(1, p);
  torch::Tensor input = rest, input_levels = rest_from;
  if (options.clean_input_level > 0) {
    torch::Tensor stable = (rest_from == 0) & (rest_to == 0);
    if (stable.any().item<bool>()) {
      input_levels = torch::where(stable, torch::full_like(rest_from, options.clean_input_level), rest_from);
      torch::Tensor noised = diffusion_.q_sample(rest, input_levels, diffusion_.noise_like(rest, gen));
      input = torch::where(stable.to(x.device()).reshape({b, t - p, 1, 1, 1}), noised, rest);
    }
  }
  auto level_input = [&](const torch::Tensor& lv) {
    return (lv.to(torch::kFloat32) / static_cast<double>(diffusion_.levels())).to(x.device());
  };
  // The prediction for the frames after a history shown as `shown` at `levels`, whole window, no cache.
  auto after_history = [&](const torch::Tensor& shown, const torch::Tensor& levels) {
    return model_->forward(torch::cat({shown, input}, 1), level_input(torch::cat({levels, input_levels}, 1))).slice(1, p);
  };
  torch::Tensor prediction;
  {
    torch::NoGradGuard no_grad;
    if (p > 0 && use_history_cache_ && model_->supports_history()) {
      if (!history_in_model_) {
        model_->set_history(history_input_, level_input(history_levels_));
        history_in_model_ = true;
      }
      prediction = model_->forward_after_history(input, level_input(input_levels));
    } else if (p > 0) {
      prediction = after_history(history_input_, history_levels_);
    } else {
      prediction = model_->forward(input, level_input(input_levels));
    }
  }
  ++calls_;
  if (p > 0 && options.guidance != 1.0) {
    const int64_t g = options.guidance_level >= 0 ? options.guidance_level : diffusion_.levels();
    const torch::Tensor guide_levels = torch::full({b, p}, g, torch::kLong);
    if (!guide_input_.defined() || guide_level_ != g) {
      guide_level_ = g;
      guide_input_ = diffusion_.q_sample(history_key_, guide_levels, diffusion_.noise_like(history_key_, gen));
    }
    torch::Tensor unguided;
    {
      torch::NoGradGuard no_grad;
      unguided = after_history(guide_input_, guide_levels);
    }
    ++calls_;
    prediction = unguided + options.guidance * (prediction - unguided);
  }
  // Estimates for the frames that move come from their own (un-stabilized) input.
  Diffusion::Estimate est = diffusion_.estimate(input, prediction, input_levels);
  torch::Tensor moved = diffusion_.ddim_step(rest, est, rest_from, rest_to, options.eta, gen);
  return p > 0 ? torch::cat({x.slice(1, 0, p), moved}, 1) : moved;
}

void Denoiser::set_history(const torch::Tensor& history, int64_t level, at::Generator& gen) {
  if (history_key_.defined() && history_key_.sizes() == history.sizes() && history_level_ == level &&
      torch::equal(history_key_, history))
    return;  // the same history as the last call: keep its input and the model's cache
  history_key_ = history.clone();
  history_level_ = level;
  history_levels_ = torch::full({history.size(0), history.size(1)}, level, torch::kLong);
  history_input_ = level > 0 ? diffusion_.q_sample(history, history_levels_, diffusion_.noise_like(history, gen)) : history;
  history_in_model_ = false;
  guide_input_ = torch::Tensor();
}

}  // namespace dfb

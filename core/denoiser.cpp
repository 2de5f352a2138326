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

  // What the network sees: stabilized clean frames are re-noised to a small level.
  torch::Tensor input = x, input_levels = from;
  if (options.clean_input_level > 0) {
    torch::Tensor stable = (from == 0) & (to == 0);
    if (stable.any().item<bool>()) {
      input_levels = torch::where(stable, torch::full_like(from, options.clean_input_level), from);
      torch::Tensor noised = diffusion_.q_sample(x, input_levels, diffusion_.noise_like(x, gen));
      torch::Tensor mask = stable.to(x.device()).reshape({b, t, 1, 1, 1});
      input = torch::where(mask, noised, x);
    }
  }
  torch::Tensor level_input = (input_levels.to(torch::kFloat32) / static_cast<double>(diffusion_.levels())).to(x.device());
  torch::Tensor prediction;
  {
    torch::NoGradGuard no_grad;
    prediction = model_->forward(input, level_input);
  }
  ++calls_;
  // Estimates for the frames that move come from their own (un-stabilized) input.
  Diffusion::Estimate est = diffusion_.estimate(input, prediction, input_levels);
  return diffusion_.ddim_step(x, est, from, to, options.eta, gen);
}

}  // namespace dfb

#include "train/training_loss.h"

#include <torch/torch.h>

#include "tensor/compat.h"

namespace dfb {

torch::Tensor training_loss(BackboneImpl& model, const Method& method, const Diffusion& diffusion,
                            const torch::Tensor& x0, at::Generator& gen, Precision precision, double progress,
                            const BatchShare& share) {
  const torch::Device device = x0.device();
  const int64_t rows = x0.size(0), total = share.total > 0 ? share.total : rows;
  TrainLevels tl = method.training_levels(total, x0.size(1), diffusion.num_levels(), gen);
  torch::Tensor eps;
  double count = 0;  // the whole batch's frames carrying loss, when x0 is a share of it
  if (share.total > 0) {
    std::vector<int64_t> shape = x0.sizes().vec();
    shape[0] = total;
    eps = diffusion.noise_like(torch::empty(shape, x0.options()), gen).narrow(0, share.begin, rows);
    count = std::max(1.0, tl.loss_mask.sum().item<double>());
    tl.levels = tl.levels.narrow(0, share.begin, rows);
    tl.loss_mask = tl.loss_mask.narrow(0, share.begin, rows);
  } else {
    eps = diffusion.noise_like(x0, gen);
  }
  torch::Tensor levels = tl.levels.to(device);
  // The history as the method shows it (x0 itself but for resampling_forcing); targets stay x0.
  const torch::Tensor shown = method.training_history(model, diffusion, x0, tl, progress, gen);
  const torch::Tensor input = shown.is_same(x0) ? x0
                              : torch::where((levels == 0).reshape({x0.size(0), x0.size(1), 1, 1, 1}), shown, x0);
  torch::Tensor xt = diffusion.q_sample(input, levels, eps);
  torch::Tensor pred;
  {
    Autocast autocast(device, precision);
    pred = model.forward(xt, levels.to(torch::kFloat32) / static_cast<double>(diffusion.num_levels()));
  }
  pred = pred.to(torch::kFloat32);
  return diffusion.loss(pred, diffusion.target(x0, eps, levels), levels, tl.loss_mask.to(device), count);
}

}  // namespace dfb

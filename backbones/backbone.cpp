#include "backbones/backbone.h"

#include <torch/torch.h>

#include <cmath>

#include "base/error.h"
#include "base/json_reader.h"
#include "base/registry.h"

namespace dfb {

Backbone make_backbone(JsonReader& r, const BackboneShape& shape) {
  std::string name = "unet3d";
  r.get("name", name);
  const auto* entry = Registry<BackboneFactory>::instance().find(name);
  if (!entry) {
    r.check(false, "name", unknown_name_message("backbone", name, Registry<BackboneFactory>::instance().names()));
    return nullptr;
  }
  return entry->factory.make(r, shape);
}

std::vector<std::pair<std::string, torch::Tensor>> named_tensors(const torch::nn::Module& m) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& p : m.named_parameters()) out.emplace_back(p.key(), p.value());
  for (const auto& b : m.named_buffers()) out.emplace_back(b.key(), b.value());
  return out;
}

torch::Tensor rotary_positions(const torch::Tensor& x, int64_t first_position) {
  const int64_t t = x.size(-2), d = x.size(-1), half = d / 2;
  auto f32 = x.options().dtype(torch::kFloat32);
  torch::Tensor theta = torch::exp(torch::arange(half, f32) * (-2.0 * std::log(10000.0) / static_cast<double>(d)));
  torch::Tensor angle = (torch::arange(first_position, first_position + t, f32).unsqueeze(1) * theta.unsqueeze(0)).to(x.scalar_type());  // [T, d/2]
  torch::Tensor cos = angle.cos(), sin = angle.sin();
  torch::Tensor x1 = x.slice(-1, 0, half), x2 = x.slice(-1, half, 2 * half);
  torch::Tensor out = torch::cat({x1 * cos - x2 * sin, x1 * sin + x2 * cos}, -1);
  return d % 2 == 0 ? out : torch::cat({out, x.slice(-1, 2 * half)}, -1);
}


}  // namespace dfb

#include "core/backbone.h"

#include <torch/torch.h>

#include "core/json_reader.h"
#include "core/registry.h"

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

}  // namespace dfb

#include "core/method.h"

#include <torch/torch.h>

#include "core/json_reader.h"
#include "core/registry.h"

namespace dfb {

std::unique_ptr<Method> make_method(JsonReader& r) {
  std::string name = "diffusion_forcing";
  r.get("name", name);
  const auto* entry = Registry<MethodFactory>::instance().find(name);
  if (!entry) {
    r.check(false, "name", unknown_name_message("method", name, Registry<MethodFactory>::instance().names()));
    return nullptr;
  }
  return entry->factory.make(r);
}

torch::Tensor uniform_levels(const std::vector<int64_t>& shape, int64_t low, int64_t high, at::Generator& gen) {
  return torch::randint(low, high + 1, shape, gen, torch::TensorOptions().dtype(torch::kLong));
}

}  // namespace dfb

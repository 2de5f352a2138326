#include "rollout/method.h"

#include <torch/torch.h>

#include "base/json_reader.h"
#include "base/registry.h"

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

nlohmann::json training_part(const nlohmann::json& method) {
  nlohmann::json out = method;
  const auto* entry = Registry<MethodFactory>::instance().find(method.value("name", std::string()));
  if (!entry) return out;
  nlohmann::json options = method;
  options.erase("name");
  options.erase("label");
  ConfigErrors errors;  // the options were validated when the config was read
  JsonReader r(options, "method", errors);
  entry->factory.make(r);
  for (const std::string& key : r.sampling_keys()) out.erase(key);
  const std::string& as = entry->factory.trains_as;
  const auto* trainer = as.empty() ? nullptr : Registry<MethodFactory>::instance().find(as);
  if (!trainer) return out;
  // Trained as that method: its training part with its default options, and this one's own
  // training options (if it has any) over them.
  nlohmann::json defaults = nlohmann::json::object();
  JsonReader d(nlohmann::json::object(), "method", errors);
  d.record_into(defaults);
  trainer->factory.make(d);
  for (const std::string& key : d.sampling_keys()) defaults.erase(key);
  for (const auto& [key, value] : out.items())
    if (key != "name" && key != "label") defaults[key] = value;
  defaults["name"] = as;
  return defaults;
}

torch::Tensor rollout_video(const torch::Tensor& context, int64_t horizon) {
  torch::Tensor video = torch::empty({context.size(0), context.size(1) + horizon, context.size(2), context.size(3),
                                      context.size(4)},
                                     context.options());
  video.slice(1, 0, context.size(1)).copy_(context);
  return video;
}

TrainLevels next_frame_levels(int64_t batch, int64_t frames, int64_t n_levels, int64_t augment_max, at::Generator& gen) {
  torch::Tensor target = uniform_levels({batch, 1}, 1, frames - 1, gen);
  torch::Tensor augment = uniform_levels({batch, 1}, 0, augment_max, gen);
  torch::Tensor noisy = uniform_levels({batch, 1}, 1, n_levels, gen);
  torch::Tensor t = torch::arange(frames, torch::kLong).unsqueeze(0);
  TrainLevels out;
  out.levels = torch::where(t < target, augment.expand({batch, frames}),
                            torch::where(t == target, noisy.expand({batch, frames}), torch::full({batch, frames}, n_levels, torch::kLong)));
  out.loss_mask = (t == target).to(torch::kFloat32);
  return out;
}

TrainLevels full_sequence_levels(int64_t batch, int64_t frames, int64_t n_levels, at::Generator& gen) {
  TrainLevels out;
  out.levels = uniform_levels({batch, 1}, 1, n_levels, gen).expand({batch, frames}).contiguous();
  out.loss_mask = torch::ones({batch, frames});
  return out;
}

TrainLevels context_conditioned_levels(int64_t batch, int64_t frames, int64_t n_levels, at::Generator& gen) {
  torch::Tensor first = uniform_levels({batch, 1}, 1, frames - 1, gen);
  torch::Tensor noisy = uniform_levels({batch, 1}, 1, n_levels, gen);
  torch::Tensor t = torch::arange(frames, torch::kLong).unsqueeze(0);
  TrainLevels out;
  out.levels = torch::where(t < first, torch::zeros({batch, frames}, torch::kLong), noisy.expand({batch, frames}));
  out.loss_mask = (t >= first).to(torch::kFloat32);
  return out;
}

torch::Tensor window_history(const torch::Tensor& video, int64_t have, int64_t past, int64_t sink) {
  const int64_t k = std::min(sink, past - 1);
  if (k <= 0 || have <= past) return video.slice(1, have - past, have);
  return torch::cat({video.slice(1, 0, k), video.slice(1, have - (past - k), have)}, 1);
}

torch::Tensor uniform_levels(const std::vector<int64_t>& shape, int64_t low, int64_t high, at::Generator& gen) {
  return torch::randint(low, high + 1, shape, gen, torch::TensorOptions().dtype(torch::kLong));
}

}  // namespace dfb

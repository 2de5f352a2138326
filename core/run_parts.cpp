#include "core/run_parts.h"

#include "datasets/clip_stream.h"

#include <torch/torch.h>

#include <ctime>

#include "core/compat.h"
#include "core/error.h"
#include "core/json_reader.h"
#include "core/presets.h"
#include "core/registry.h"
#include "datasets/dataset_file.h"
#include "datasets/dataset_registry.h"

namespace dfb {

std::unique_ptr<Method> build_method(const RunConfig& config) {
  ConfigErrors errors;
  JsonReader r(config.method, "method", errors);
  std::unique_ptr<Method> m = make_method(r);
  errors.throw_if_any("config");
  return m;
}

Backbone build_backbone(const RunConfig& config) {
  const DataShape shape = data_shape(config);
  ConfigErrors errors;
  JsonReader r(config.backbone, "backbone", errors);
  Backbone b = make_backbone(r, BackboneShape{shape.channels, shape.size, config.train.frames, build_method(config)->causal()});
  errors.throw_if_any("config");
  return b;
}

namespace {
Clips generate(const RunConfig& config, int64_t count, int64_t length, uint64_t seed, const char* split) {
  ConfigErrors errors;
  JsonReader r(config.data.options, "data.options", errors);
  Clips c = Registry<DatasetFactory>::instance().get(config.data.dataset).factory.make(r, count, length, seed, split);
  errors.throw_if_any("config");
  c.split = split;
  return c;
}

// Frames from a file must match the shape the model is built for (DESIGN §7: a wrong shape is a clear error).
void require_shape(const Clips& c, const DataShape& want, const std::string& file) {
  if (c.height != want.size || c.width != want.size || c.channels != want.channels)
    throw Error(file + ": frames are " + std::to_string(c.height) + "x" + std::to_string(c.width) + "x" +
                std::to_string(c.channels) + ", but the model is built for " + std::to_string(want.size) + "x" +
                std::to_string(want.size) + "x" + std::to_string(want.channels) +
                " (data.options or data.train_file decide it); make the files with the same --size");
}
}  // namespace

Clips load_train_clips(const RunConfig& config) {
  if (config.data.train_file.empty())
    return generate(config, config.data.train_clips, config.data.clip_length, config.data.seed, "train");
  Clips c = read_dataset_file(config.data.train_file);
  if (c.height != c.width)
    throw Error(config.data.train_file + ": frames must be square, got " + std::to_string(c.height) + "x" +
                std::to_string(c.width));
  if (c.length < config.train.frames)
    throw Error(config.data.train_file + ": clips have " + std::to_string(c.length) + " frames, train.frames needs " +
                std::to_string(config.train.frames));
  return c;
}

std::unique_ptr<ClipSource> open_train_source(const RunConfig& config) {
  if (config.data.train_file.empty()) return clips_in_memory(load_train_clips(config));
  std::unique_ptr<ClipSource> s = open_clip_file(config.data.train_file);
  if (s->height != s->width)
    throw Error(config.data.train_file + ": frames must be square, got " + std::to_string(s->height) + "x" +
                std::to_string(s->width));
  return s;
}

Clips load_eval_clips(const RunConfig& config, int64_t count, int64_t length) {
  if (config.data.eval_file.empty()) {
    Clips c = generate(config, count, length, step_seed(config.data.seed, -1), "eval");
    require_shape(c, data_shape(config), "data.options (evaluation clips)");
    return c;
  }
  Clips c = read_dataset_file(config.data.eval_file);
  require_shape(c, data_shape(config), config.data.eval_file);
  if (c.count < count || c.length < length)
    throw Error(config.data.eval_file + ": has " + std::to_string(c.count) + " clips of " + std::to_string(c.length) +
                " frames; asked for " + std::to_string(count) + " of " + std::to_string(length));
  Clips out = c;
  out.count = count;
  out.length = length;
  out.frames.clear();
  out.states.clear();
  const int64_t k = c.objects;
  for (int64_t i = 0; i < count; ++i) {
    out.frames.insert(out.frames.end(), c.clip(i), c.clip(i) + length * c.frame_bytes());
    if (k > 0) {
      const float* s = c.states.data() + i * c.length * k * kStateDim;
      out.states.insert(out.states.end(), s, s + length * k * kStateDim);
    }
  }
  if (k > 0) out.colors.resize(static_cast<size_t>(count * k * 3));
  return out;
}

uint64_t step_seed(uint64_t seed, int64_t step) {
  uint64_t z = seed * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(step) + 0x632BE59BD9B4E019ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

torch::Tensor clips_to_tensor(const Clips& c) {
  torch::Tensor u8 = torch::from_blob(const_cast<uint8_t*>(c.frames.data()),
                                      {c.count, c.length, c.height, c.width, c.channels}, torch::kUInt8);
  return u8.permute({0, 1, 4, 2, 3}).to(torch::kFloat32).div(127.5).sub(1.0).contiguous();
}

std::vector<uint8_t> tensor_to_frames(const torch::Tensor& frames) {
  torch::Tensor u8 = frames.detach().to(torch::kCPU, torch::kFloat32).add(1.0).mul(127.5).round().clamp(0, 255)
                         .to(torch::kUInt8).permute({0, 1, 3, 4, 2}).contiguous();
  return std::vector<uint8_t>(u8.data_ptr<uint8_t>(), u8.data_ptr<uint8_t>() + u8.numel());
}

nlohmann::json environment_json(const std::string& device) {
  char when[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  nlohmann::json env = {
      {"dfbench_version", DFB_VERSION},
      {"git_hash", build_git_hash()},
      {"torch_version", torch_version_string()},
      {"device", device},
      {"cuda_available", cuda_available()},
      {"threads", at::get_num_threads()},
      {"compiler", __VERSION__},
      {"written_at", when},
  };
  if (device.rfind("cuda", 0) == 0 && cuda_available()) env["cuda_devices"] = torch::cuda::device_count();
  return env;
}

}  // namespace dfb

#include "pipeline/run_parts.h"

#include "formats/clip_stream.h"

#include <torch/torch.h>

#include "tensor/compat.h"
#include "base/error.h"
#include "base/json_reader.h"
#include "base/presets.h"
#include "base/rng.h"
#include "base/registry.h"
#include "formats/dataset_file.h"
#include "datasets/dataset_registry.h"

namespace dfb {

std::unique_ptr<Method> build_method(const RunConfig& config) {
  ConfigErrors errors;
  JsonReader r(config.method, "method", errors);
  std::unique_ptr<Method> m = make_method(r);
  errors.throw_if_any("config");
  return m;
}

BackboneShape backbone_shape(const RunConfig& config, const Method& method) {
  const DataShape shape = data_shape(config);
  return BackboneShape{shape.channels, shape.size, config.train.frames, method.causal()};
}

Backbone build_backbone(const RunConfig& config, const BackboneShape& shape) {
  ConfigErrors errors;
  JsonReader r(config.backbone, "backbone", errors);
  Backbone b = make_backbone(r, shape);
  errors.throw_if_any("config");
  return b;
}

Backbone build_backbone(const RunConfig& config) { return build_backbone(config, backbone_shape(config, *build_method(config))); }

namespace {
Clips generate(const RunConfig& config, int64_t count, int64_t length, uint64_t seed, const char* split) {
  ConfigErrors errors;
  JsonReader r(config.data.options, "data.options", errors);
  Clips c = Registry<DatasetFactory>::instance().get(config.data.dataset).factory.make(r, count, length, seed, split);
  errors.throw_if_any("config");
  c.split = split;
  return c;
}

// Frames from a file must match the shape the model is built for (docs/design.md §7: a wrong shape is a clear error).
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

namespace {
// The first `count` clips of `length` frames of c (both within c).
Clips first_clips(const Clips& c, int64_t count, int64_t length) {
  Clips out = c;
  out.count = count;
  out.length = length;
  out.frames.clear();
  out.states.clear();
  out.visible.clear();
  const int64_t k = c.objects;
  for (int64_t i = 0; i < count; ++i) {
    out.frames.insert(out.frames.end(), c.clip(i), c.clip(i) + length * c.frame_bytes());
    if (k > 0) {
      const float* s = c.states.data() + i * c.length * k * kStateDim;
      out.states.insert(out.states.end(), s, s + length * k * kStateDim);
    }
    if (!c.visible.empty()) {
      const uint8_t* v = c.visible.data() + i * c.length * k;
      out.visible.insert(out.visible.end(), v, v + length * k);
    }
  }
  if (k > 0) out.colors.resize(static_cast<size_t>(count * k * 3));
  return out;
}
}  // namespace

Clips load_eval_clips(const RunConfig& config, int64_t count, int64_t length) {
  if (config.data.eval_file.empty()) {
    Clips c = generate(config, count, length, eval_data_seed(config.data.seed), "eval");
    require_shape(c, data_shape(config), "data.options (evaluation clips)");
    return c;
  }
  return load_clips_file(config, config.data.eval_file, count, length);
}

Clips load_clips_file(const RunConfig& config, const std::string& file, int64_t count, int64_t length) {
  Clips c = read_dataset_file(file);
  require_shape(c, data_shape(config), file);
  if (c.count < count || c.length < length)
    throw Error(file + ": has " + std::to_string(c.count) + " clips of " + std::to_string(c.length) +
                " frames; asked for " + std::to_string(count) + " of " + std::to_string(length));
  return first_clips(c, count, length);
}

Clips load_memory_clips(const RunConfig& config, int64_t gap) {
  const MemoryConfig& m = config.memory;
  if (m.gaps.empty()) throw Error("the config has no memory sweep (a \"memory\" section with \"gaps\")");
  RunConfig swept = config;
  swept.data.options["gap_min"] = swept.data.options["gap_max"] = gap;
  swept.data.options["gap_start_min"] = swept.data.options["gap_start_max"] = m.before;
  swept.data.options["gap_share"] = 1.0;
  // A stream of its own per gap length: never a training, evaluation or validation clip.
  Clips c = generate(swept, m.count, m.before + gap + m.after, step_seed(config.data.seed, -100 - gap), "eval");
  require_shape(c, data_shape(config), "data.options (memory clips)");
  return c;
}

std::string memory_clips_file(const std::string& out, int64_t gap) {
  return out + "/data/memory_G" + std::to_string(gap) + ".h5";
}

Clips load_validation_clips(const RunConfig& config, int64_t count, int64_t length) {
  if (!config.data.eval_file.empty()) {  // as many as the file has, up to count
    Clips c = read_dataset_file(config.data.eval_file);
    require_shape(c, data_shape(config), config.data.eval_file);
    if (c.length < length)
      throw Error(config.data.eval_file + ": its clips have " + std::to_string(c.length) + " frames; validation needs " +
                  std::to_string(length) + " (train.frames)");
    return first_clips(c, std::min(count, c.count), length);
  }
  Clips c = generate(config, count, length, step_seed(config.data.seed, -2), "eval");
  require_shape(c, data_shape(config), "data.options (validation clips)");
  return c;
}

}  // namespace dfb

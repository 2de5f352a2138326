// Rollout files (see rollout_file.h).
#include "formats/rollout_file.h"

#include <cmath>

#include "base/error.h"
#include "formats/h5.h"
#include "formats/dataset_file.h"

namespace dfb {

namespace {

// The layout of /<name> as a Clips without pixels: uint8 or float [B, L, H, W, C].
Clips frame_shape(const h5::Reader& f, const std::string& name) {
  if (!f.is_dataset(name)) throw Error(f.path() + ": /" + name + " is missing (expected [B, L, H, W, C] frames)");
  const h5::DType type = f.dtype(name);
  if (type == h5::DType::kU8) return frames_layout(f, name);
  const std::vector<int64_t> s = f.shape(name);
  if ((type != h5::DType::kF32 && type != h5::DType::kF64) || s.size() != 5 || (s[4] != 1 && s[4] != 3))
    throw Error(f.path() + ": /" + name + " must be uint8 (0..255) or float (0..1) [B, L, H, W, C] with C = 1 or 3, found " +
                h5::dtype_name(type) + " " + h5::shape_text(s));
  Clips c;
  c.count = s[0], c.length = s[1], c.height = s[2], c.width = s[3], c.channels = s[4];
  return c;
}

}  // namespace

RolloutFile open_rollout_file(const std::string& path) {
  h5::Reader f(path);
  auto bad = [&](const std::string& what) { throw Error(path + ": " + what); };
  if (!f.has_attr("/", "format") || f.attr_string("/", "format") != "dfbench rollouts")
    bad("not a rollout file: the attribute format = \"dfbench rollouts\" is missing on '/' (docs/formats.md)");
  if (f.has_attr("/", "schema_version") && f.attr_int("/", "schema_version") != 1)
    bad("schema_version " + std::to_string(f.attr_int("/", "schema_version")) + " is not supported (this dfbench reads 1)");
  if (!f.has_attr("/", "context")) bad("the attribute context (frames given before generation) is missing on '/'");
  RolloutFile r;
  r.path = path;
  r.context = f.attr_int("/", "context");
  r.t_train = f.has_attr("/", "t_train") ? f.attr_int("/", "t_train") : 0;
  r.truth = frame_shape(f, "truth/frames");
  for (const std::string& g : f.list("/"))
    if (g != "truth") r.methods.push_back(g);
  if (r.methods.empty()) bad("holds no method group (expected /<method>/frames beside /truth/frames)");
  if (r.context < 0 || r.context >= r.truth.length)
    bad("context = " + std::to_string(r.context) + " leaves no generated frame in clips of " +
        std::to_string(r.truth.length) + " frames");
  if (r.t_train < 0) bad("t_train must be >= 0");
  const std::vector<int64_t> truth_shape = {r.truth.count, r.truth.length, r.truth.height, r.truth.width,
                                            r.truth.channels};
  for (const std::string& m : r.methods) {
    if (f.has_attr(m, "config")) r.configs[m] = f.attr_string(m, "config");
    const Clips c = frame_shape(f, m + "/frames");
    const std::vector<int64_t> s = {c.count, c.length, c.height, c.width, c.channels};
    if (s != truth_shape)
      bad("/" + m + "/frames has shape " + h5::shape_text(s) + " but /truth/frames has " + h5::shape_text(truth_shape) +
          ": every method must continue the same clips");
  }
  // The truth's frames, and its object states where present (both or neither, as in dataset files).
  if (f.dtype("truth/frames") != h5::DType::kU8) bad("/truth/frames must be uint8");
  r.truth.frames = f.read_u8("truth/frames");
  if (f.exists("truth/states") != f.exists("truth/colors"))
    bad("/truth/states and /truth/colors come together or not at all");
  if (f.exists("truth/states")) {
    const std::vector<int64_t> s = f.shape("truth/states"), c = f.shape("truth/colors");
    if (s.size() != 4 || s[0] != r.truth.count || s[1] != r.truth.length || s[2] < 1 || s[3] != kStateDim)
      bad("/truth/states has shape " + h5::shape_text(s) + "; expected [" + std::to_string(r.truth.count) + ", " +
          std::to_string(r.truth.length) + ", K, 6]");
    if (c != std::vector<int64_t>{r.truth.count, s[2], 3})
      bad("/truth/colors has shape " + h5::shape_text(c) + "; expected " + h5::shape_text({r.truth.count, s[2], 3}));
    r.truth.objects = s[2];
    r.truth.states = f.read_f32("truth/states");
    r.truth.colors = f.read_u8("truth/colors");
  }
  if (f.exists("truth/visible")) {  // memory data: which objects each true frame shows
    const std::vector<int64_t> expected = {r.truth.count, r.truth.length, r.truth.objects};
    if (r.truth.objects < 1) bad("/truth/visible needs /truth/states beside it");
    if (f.dtype("truth/visible") != h5::DType::kU8 || f.shape("truth/visible") != expected)
      bad("/truth/visible must be uint8 " + h5::shape_text(expected) + ", found " + h5::shape_text(f.shape("truth/visible")));
    r.truth.visible = f.read_u8("truth/visible");
    for (uint8_t v : r.truth.visible)
      if (v > 1) bad("/truth/visible holds " + std::to_string(v) + "; it must hold 0 (hidden) or 1 (in view)");
  }
  if (f.has_attr("truth", "source")) r.truth.source = f.attr_string("truth", "source");
  return r;
}

namespace {

// Rollouts first .. first + count − 1 of /<group>/frames as uint8 (float frames checked and
// rounded); kAll: every rollout.
constexpr int64_t kAll = -1;
Clips read_rollouts(const std::string& path, const std::string& group, int64_t first, int64_t count) {
  h5::Reader f(path);
  const std::string name = group + "/frames";
  Clips c = frame_shape(f, name);
  if (count == kAll) count = c.count - first;
  if (first < 0 || count < 0 || first + count > c.count)
    throw Error(path + ": /" + name + " has no rollout " + std::to_string(first + count - 1) + " (it holds " +
                std::to_string(c.count) + ")");
  c.count = count;
  const bool bytes = f.dtype(name) == h5::DType::kU8;
  f.check_fits(name, h5::DType::kU8, count);
  if (!bytes) f.check_fits(name, h5::DType::kF32, 1);  // the one float rollout held at a time
  const int64_t per_clip = c.clip_bytes(), per_frame = c.frame_bytes();
  c.frames.resize(static_cast<size_t>(count * per_clip));
  if (bytes) {
    f.read_rows(name, h5::DType::kU8, first, count, c.frames.data());
    return c;
  }
  // Float frames in [0, 1]: one rollout at a time, checked, rounded to uint8.
  std::vector<float> buffer(static_cast<size_t>(per_clip));
  for (int64_t i = 0; i < count; ++i) {
    f.read_rows(name, h5::DType::kF32, first + i, 1, buffer.data());
    for (int64_t k = 0; k < per_clip; ++k) {
      const float v = buffer[k];
      if (!std::isfinite(v) || v < -1e-6f || v > 1 + 1e-6f)
        throw Error(path + ": /" + name + " rollout " + std::to_string(first + i) + ", frame " +
                    std::to_string(k / per_frame) + " holds " + (std::isfinite(v) ? std::to_string(v) : "NaN or inf") +
                    "; float frames must be finite and in [0, 1]");
      c.frames[i * per_clip + k] = static_cast<uint8_t>(std::lround(std::min(1.0f, std::max(0.0f, v)) * 255.0f));
    }
  }
  return c;
}

void write_frames(h5::Writer& w, const std::string& name, const Clips& c) {
  w.write(name, h5::DType::kU8, c.frames.data(), {c.count, c.length, c.height, c.width, c.channels},
          {1, c.length, c.height, c.width, c.channels}, 4);
}

}  // namespace

Clips read_method_frames(const RolloutFile& file, const std::string& method) {
  return read_rollouts(file.path, method, 0, kAll);
}

Clips read_one_rollout(const RolloutFile& file, const std::string& group, int64_t index) {
  return read_rollouts(file.path, group, index, 1);
}

void write_rollout_file(const std::string& path, const Rollouts& r) {
  h5::Writer w(path);
  write_frames(w, r.method + "/frames", r.generated);
  write_frames(w, "truth/frames", r.truth);
  if (r.truth.objects > 0) {
    w.write("truth/states", h5::DType::kF32, r.truth.states.data(), {r.truth.count, r.truth.length, r.truth.objects, kStateDim});
    w.write("truth/colors", h5::DType::kU8, r.truth.colors.data(), {r.truth.count, r.truth.objects, 3});
    if (!r.truth.visible.empty())
      w.write("truth/visible", h5::DType::kU8, r.truth.visible.data(), {r.truth.count, r.truth.length, r.truth.objects});
  }
  w.attr("/", "format", std::string("dfbench rollouts"));
  w.attr("/", "schema_version", kRolloutSchemaVersion);
  w.attr("/", "context", r.context);
  w.attr("/", "t_train", r.t_train);
  w.attr(r.method, "checkpoint_step", r.checkpoint_step);
  w.attr(r.method, "steps", r.steps);
  w.attr(r.method, "eta", r.eta);
  if (!r.config_json.empty()) w.attr(r.method, "config", r.config_json);
  if (!r.stage_key.empty()) w.attr(r.method, "stage_key", r.stage_key);
  w.attr("truth", "source", r.truth.source);
  w.commit();
}

Rollouts read_rollout_file(const std::string& path) {
  const RolloutFile file = open_rollout_file(path);
  if (file.methods.size() != 1) {
    std::string names;
    for (const std::string& m : file.methods) names += (names.empty() ? "" : ", ") + m;
    throw Error(path + ": holds " + std::to_string(file.methods.size()) + " methods (" + names +
                "); one method's rollout file was expected");
  }
  Rollouts r;
  r.method = file.methods.front();
  r.context = file.context;
  r.t_train = file.t_train;
  r.truth = file.truth;
  r.generated = read_method_frames(file, r.method);
  h5::Reader f(path);
  if (f.has_attr(r.method, "checkpoint_step")) r.checkpoint_step = f.attr_int(r.method, "checkpoint_step");
  if (f.has_attr(r.method, "steps")) r.steps = f.attr_int(r.method, "steps");
  if (f.has_attr(r.method, "eta")) r.eta = f.attr_double(r.method, "eta");
  if (f.has_attr(r.method, "config")) r.config_json = f.attr_string(r.method, "config");
  if (f.has_attr(r.method, "stage_key")) r.stage_key = f.attr_string(r.method, "stage_key");
  return r;
}

}  // namespace dfb

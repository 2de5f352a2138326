// The HDF5 dataset file (docs/formats.md), written and validated on top of dfb::h5.
#include "formats/dataset_file.h"

#include <cmath>

#include "base/error.h"
#include "base/hash.h"
#include "formats/h5.h"

namespace dfb {
namespace {

using h5::shape_text;

// `clips` must be self-consistent before anything is written.
void check_clips(const std::string& path, const Clips& c) {
  auto bad = [&](const std::string& what) { throw Error("cannot write '" + path + "': " + what); };
  if (c.count < 1 || c.length < 1 || c.height < 1 || c.width < 1)
    bad("clips must have count, length, height and width >= 1, got " +
        shape_text({c.count, c.length, c.height, c.width}));
  if (c.channels != 1 && c.channels != 3) bad("channels must be 1 or 3, got " + std::to_string(c.channels));
  if (static_cast<int64_t>(c.frames.size()) != c.count * c.clip_bytes())
    bad("frames hold " + std::to_string(c.frames.size()) + " bytes, shape " +
        shape_text({c.count, c.length, c.height, c.width, c.channels}) + " needs " +
        std::to_string(c.count * c.clip_bytes()));
  if (c.objects < 0) bad("objects must be >= 0, got " + std::to_string(c.objects));
  if (c.objects > 0 && static_cast<int64_t>(c.states.size()) != c.count * c.length * c.objects * kStateDim)
    bad("states hold " + std::to_string(c.states.size()) + " values, expected " +
        shape_text({c.count, c.length, c.objects, kStateDim}));
  if (c.objects > 0 && static_cast<int64_t>(c.colors.size()) != c.count * c.objects * 3)
    bad("colors hold " + std::to_string(c.colors.size()) + " values, expected " + shape_text({c.count, c.objects, 3}));
  if (!c.visible.empty() && (c.objects < 1 || static_cast<int64_t>(c.visible.size()) != c.count * c.length * c.objects))
    bad("visible holds " + std::to_string(c.visible.size()) + " values, expected " +
        shape_text({c.count, c.length, c.objects}) + " (and states)");
  if (!std::isfinite(c.fps) || c.fps < 0) bad("fps must be finite and >= 0");
}

std::string optional_string(const h5::Reader& r, const std::string& key) {
  return r.has_attr("/", key) ? r.attr_string("/", key) : std::string();
}

}  // namespace

void write_dataset_file(const std::string& path, const Clips& clips, const std::function<void(h5::Writer&)>& extra) {
  check_clips(path, clips);
  const int64_t n = clips.count, l = clips.length, k = clips.objects;
  h5::Writer w(path);
  w.write("frames", h5::DType::kU8, clips.frames.data(), {n, l, clips.height, clips.width, clips.channels},
          {1, l, clips.height, clips.width, clips.channels}, 4);
  // Checked when the file is read whole (files from before it, or from other programs, have none).
  w.attr("frames", "fnv1a64", checksum_text(clips.frames.data(), clips.frames.size()));
  if (k > 0) {
    w.write("states", h5::DType::kF32, clips.states.data(), {n, l, k, kStateDim}, {1, l, k, kStateDim}, 4);
    w.write("colors", h5::DType::kU8, clips.colors.data(), {n, k, 3});
    if (!clips.visible.empty()) w.write("visible", h5::DType::kU8, clips.visible.data(), {n, l, k}, {1, l, k}, 4);
  }
  w.attr("/", "schema_version", kDatasetSchemaVersion);
  w.attr("/", "source", clips.source);
  w.attr("/", "split", clips.split);
  w.attr("/", "fps", clips.fps);
  w.attr("/", "generator", clips.generator_json);
  if (extra) extra(w);
  w.commit();
}

Clips frames_layout(const h5::Reader& r, const std::string& name) {
  auto bad = [&](const std::string& what) { throw Error(r.path() + ": /" + name + " " + what); };
  if (!r.is_dataset(name)) bad("is missing (expected uint8 [N, L, H, W, C])");
  const std::vector<int64_t> fs = r.shape(name);
  const h5::DType ft = r.dtype(name);
  if (ft != h5::DType::kU8 || fs.size() != 5)
    bad(std::string("must be uint8 [N, L, H, W, C], found ") + h5::dtype_name(ft) + " " + shape_text(fs));
  if (fs[0] < 1 || fs[1] < 1 || fs[2] < 1 || fs[3] < 1)
    bad("has shape " + shape_text(fs) + "; N, L, H and W must be at least 1");
  if (fs[4] != 1 && fs[4] != 3)
    bad("has " + std::to_string(fs[4]) + " channels; it must have 1 (grey) or 3 (RGB)");
  Clips c;
  c.count = fs[0];
  c.length = fs[1];
  c.height = fs[2];
  c.width = fs[3];
  c.channels = fs[4];
  return c;
}

Clips read_dataset_file(const std::string& path) {
  h5::Reader r(path);
  auto bad = [&](const std::string& what) { throw Error(path + ": " + what); };

  if (!r.has_attr("/", "schema_version"))
    bad("attribute schema_version is missing on '/' (a dfbench dataset file sets it to " +
        std::to_string(kDatasetSchemaVersion) + ")");
  const int64_t version = r.attr_int("/", "schema_version");
  if (version != kDatasetSchemaVersion)
    bad("schema_version " + std::to_string(version) + " is not supported (this dfbench reads " +
        std::to_string(kDatasetSchemaVersion) + ")");

  Clips c = frames_layout(r, "frames");

  // /states float [N, L, K, 6] and /colors uint8 [N, K, 3]: both or neither.
  const bool has_states = r.exists("states"), has_colors = r.exists("colors");
  if (has_states != has_colors)
    bad(has_states ? "/states is present but /colors is missing (expected uint8 [N, K, 3])"
                   : "/colors is present but /states is missing (expected float32 [N, L, K, 6])");
  if (has_states) {
    if (!r.is_dataset("states")) bad("/states is not a dataset");
    if (!r.is_dataset("colors")) bad("/colors is not a dataset");
    const std::vector<int64_t> ss = r.shape("states");
    const h5::DType st = r.dtype("states");
    if (st != h5::DType::kF32 && st != h5::DType::kF64)
      bad(std::string("/states must be float32 [N, L, K, 6], found ") + h5::dtype_name(st) + " " + shape_text(ss));
    const std::string implied = "[" + std::to_string(c.count) + ", " + std::to_string(c.length) + ", K, 6]";
    if (ss.size() != 4 || ss[0] != c.count || ss[1] != c.length || ss[2] < 1 || ss[3] != kStateDim)
      bad("/states has shape " + shape_text(ss) + " but /frames implies " + implied + " with K >= 1");
    c.objects = ss[2];
    const std::vector<int64_t> cs = r.shape("colors"), expected = {c.count, c.objects, 3};
    const h5::DType ct = r.dtype("colors");
    if (ct != h5::DType::kU8 || cs != expected)
      bad(std::string("/colors must be uint8 ") + shape_text(expected) + " to match /frames and /states, found " +
          h5::dtype_name(ct) + " " + shape_text(cs));
  }

  // /visible uint8 [N, L, K], 0 or 1: only beside /states.
  const bool has_visible = r.exists("visible");
  if (has_visible) {
    if (!has_states) bad("/visible is present but /states is missing (which objects it would describe is unknown)");
    const std::vector<int64_t> vs = r.shape("visible"), expected = {c.count, c.length, c.objects};
    if (!r.is_dataset("visible") || r.dtype("visible") != h5::DType::kU8 || vs != expected)
      bad(std::string("/visible must be uint8 ") + shape_text(expected) + " to match /states, found " +
          h5::dtype_name(r.dtype("visible")) + " " + shape_text(vs));
  }

  // Optional attributes.
  c.source = optional_string(r, "source");
  c.split = optional_string(r, "split");
  c.generator_json = optional_string(r, "generator");
  c.fps = r.has_attr("/", "fps") ? r.attr_double("/", "fps") : 0.0;
  if (!std::isfinite(c.fps) || c.fps < 0) bad("attribute fps is " + std::to_string(c.fps) + "; it must be >= 0");

  r.check_fits("frames", h5::DType::kU8);
  c.frames.resize(static_cast<size_t>(c.count * c.clip_bytes()));
  r.read("frames", h5::DType::kU8, c.frames.data());
  if (r.has_attr("frames", "fnv1a64"))
    check_checksum(path + ": /frames", r.attr_string("frames", "fnv1a64"), c.frames.data(), c.frames.size());
  if (c.objects > 0) {
    c.states = r.read_f32("states");
    c.colors = r.read_u8("colors");
  }
  if (has_visible) {
    c.visible = r.read_u8("visible");
    for (uint8_t v : c.visible)
      if (v > 1) bad("/visible holds " + std::to_string(v) + "; it must hold 0 (hidden) or 1 (in view)");
  }
  return c;
}

}  // namespace dfb

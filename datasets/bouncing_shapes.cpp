// bouncing_shapes generator: a hand-written RNG (splitmix64 seeding xoshiro256**)
// so the clips are the same bytes on every platform and standard library.
#include "datasets/bouncing_shapes.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/rng.h"

namespace dfb {

const std::array<std::array<uint8_t, 3>, kShapePaletteSize> kShapePalette = {{
    {230, 40, 40},    // red
    {40, 220, 40},    // green
    {60, 90, 255},    // blue
    {235, 220, 40},   // yellow
    {220, 50, 220},   // magenta
    {40, 220, 230},   // cyan
}};

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr int kMaxSize = 4096;

struct Shape {
  double x, y, vx, vy, r;
  int square;  // 0 = disc, 1 = square
};

std::string fail_prefix(const char* option) { return std::string("bouncing_shapes.") + option; }

std::string num(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

// One frame step along one axis: move, then reflect off a wall if crossed.
void step_axis(double& pos, double& vel, double r, double size) {
  pos += vel;
  if (pos - r < 0) {
    pos = 2 * r - pos;
    vel = -vel;
  } else if (pos + r > size) {
    pos = 2 * (size - r) - pos;
    vel = -vel;
  }
}

void draw(const Shape& s, const std::array<uint8_t, 3>& color, uint8_t* frame, int size) {
  const int x0 = std::max(0, static_cast<int>(std::floor(s.x - s.r - 1)));
  const int x1 = std::min(size - 1, static_cast<int>(std::ceil(s.x + s.r + 1)));
  const int y0 = std::max(0, static_cast<int>(std::floor(s.y - s.r - 1)));
  const int y1 = std::min(size - 1, static_cast<int>(std::ceil(s.y + s.r + 1)));
  for (int py = y0; py <= y1; ++py) {
    for (int px = x0; px <= x1; ++px) {
      const double dx = px + 0.5 - s.x;
      const double dy = py + 0.5 - s.y;
      const bool inside = s.square ? (std::fabs(dx) <= s.r && std::fabs(dy) <= s.r)
                                   : (dx * dx + dy * dy <= s.r * s.r);
      if (!inside) continue;
      uint8_t* p = frame + (static_cast<int64_t>(py) * size + px) * 3;
      p[0] = color[0];
      p[1] = color[1];
      p[2] = color[2];
    }
  }
}

// The first hidden frame and the gap's length of one clip (blackout), from three draws made
// whatever the outcome, so every clip uses the stream alike. {0, 0}: no gap.
std::pair<int64_t, int64_t> draw_gap(const BouncingShapesOptions& o, int64_t length, Rng& rng) {
  const bool has = rng.uniform() < o.gap_share;
  const int64_t g = o.gap_min + rng.below(o.gap_max - o.gap_min + 1);
  const int64_t lo = o.gap_start_min;
  const int64_t hi = std::max(lo, o.gap_start_max < 0 ? length - 1 - g : std::min<int64_t>(o.gap_start_max, length - 1 - g));
  const int64_t start = lo + rng.below(hi - lo + 1);
  const int64_t end = std::min(start + g, length - 1);  // the last frame stays in view
  if (!has || end <= start) return {0, 0};
  return {start, end - start};
}

// Whether a shape lies wholly outside the occluder's columns [x0, x1).
bool clear_of(const Shape& s, double x0, double x1) { return s.x + s.r <= x0 || s.x - s.r >= x1; }

std::string generator_json(const BouncingShapesOptions& o, uint64_t seed) {
  nlohmann::json j;
  j["generator"] = "bouncing_shapes";
  j["size"] = o.size;
  j["objects"] = o.objects;
  j["radius_min"] = o.radius_min;
  j["radius_max"] = o.radius_max;
  j["speed_min"] = o.speed_min;
  j["speed_max"] = o.speed_max;
  j["squares"] = o.squares;
  j["seed"] = seed;
  // Only where they differ from the defaults: data made before these options keeps its key.
  if (o.colors != "fixed") j["colors"] = o.colors;
  if (o.memory == "blackout")
    j["blackout"] = {{"gap_min", o.gap_min}, {"gap_max", o.gap_max}, {"gap_start_min", o.gap_start_min},
                     {"gap_start_max", o.gap_start_max}, {"gap_share", o.gap_share}, {"hidden_value", o.hidden_value}};
  if (o.memory == "occluder")
    j["occluder"] = {{"x", o.occluder_x}, {"width", o.occluder_width}, {"hidden_value", o.hidden_value}};
  return j.dump();
}

}  // namespace

void validate(const BouncingShapesOptions& o) {
  if (o.size < 8 || o.size > kMaxSize)
    throw Error(fail_prefix("size") + " must be in 8.." + std::to_string(kMaxSize) + ", got " +
                std::to_string(o.size));
  if (o.objects < 1 || o.objects > kShapePaletteSize)
    throw Error(fail_prefix("objects") + " must be in 1.." + std::to_string(kShapePaletteSize) +
                ", got " + std::to_string(o.objects));
  if (!std::isfinite(o.radius_min) || o.radius_min <= 0)
    throw Error(fail_prefix("radius_min") + " must be > 0, got " + num(o.radius_min));
  if (!std::isfinite(o.radius_max) || o.radius_max < o.radius_min)
    throw Error(fail_prefix("radius_max") + " must be >= radius_min (" + num(o.radius_min) +
                "), got " + num(o.radius_max));
  if (!(2 * o.radius_max < o.size / 2.0))
    throw Error(fail_prefix("radius_max") + " must be < size/4 = " + num(o.size / 4.0) +
                " (2*radius_max < size/2), got " + num(o.radius_max));
  if (!std::isfinite(o.speed_min) || o.speed_min < 0)
    throw Error(fail_prefix("speed_min") + " must be >= 0, got " + num(o.speed_min));
  if (!std::isfinite(o.speed_max) || o.speed_max < o.speed_min)
    throw Error(fail_prefix("speed_max") + " must be >= speed_min (" + num(o.speed_min) +
                "), got " + num(o.speed_max));
  // One reflection per frame must suffice: a step may not cross the free span.
  const double span = o.size - 2 * o.radius_max;
  if (!(o.speed_max < span))
    throw Error(fail_prefix("speed_max") + " must be < size - 2*radius_max = " + num(span) +
                ", got " + num(o.speed_max));
  if (o.colors != "fixed" && o.colors != "random")
    throw Error(fail_prefix("colors") + " must be \"fixed\" or \"random\", got \"" + o.colors + "\"");
  if (o.memory != "none" && o.memory != "blackout" && o.memory != "occluder")
    throw Error(fail_prefix("memory") + " must be \"none\", \"blackout\" or \"occluder\", got \"" + o.memory + "\"");
  if (o.hidden_value < 0 || o.hidden_value > 63)
    throw Error(fail_prefix("hidden_value") + " must be in 0..63 (darker than any shape the oracle counts), got " +
                std::to_string(o.hidden_value));
  if (o.memory == "blackout") {
    if (o.gap_min < 1 || o.gap_max < o.gap_min)
      throw Error(fail_prefix("gap_min") + " and gap_max must satisfy 1 <= gap_min <= gap_max, got " +
                  std::to_string(o.gap_min) + " and " + std::to_string(o.gap_max));
    if (o.gap_start_min < 0 || (o.gap_start_max >= 0 && o.gap_start_max < o.gap_start_min))
      throw Error(fail_prefix("gap_start_min") + " must be >= 0 and gap_start_max -1 or >= it, got " +
                  std::to_string(o.gap_start_min) + " and " + std::to_string(o.gap_start_max));
    if (!(o.gap_share >= 0 && o.gap_share <= 1))
      throw Error(fail_prefix("gap_share") + " must be in [0, 1], got " + num(o.gap_share));
  }
  if (o.memory == "occluder") {
    if (o.occluder_width < 1 || o.occluder_width > o.size - 4 * o.radius_max)
      throw Error(fail_prefix("occluder_width") + " must be in 1.." + num(o.size - 4 * o.radius_max) +
                  " (room for a whole shape on either side), got " + std::to_string(o.occluder_width));
    if (o.occluder_x < -1 || o.occluder_x + o.occluder_width > o.size)
      throw Error(fail_prefix("occluder_x") + " must be -1 (centred) or leave the bar inside the frame, got " +
                  std::to_string(o.occluder_x));
  }
}

Clips generate_bouncing_shapes(const BouncingShapesOptions& options, int64_t count, int64_t length,
                               uint64_t seed) {
  validate(options);
  if (count < 0) throw Error("bouncing_shapes: count must be >= 0, got " + std::to_string(count));
  if (length < 1)
    throw Error("bouncing_shapes: length must be >= 1, got " + std::to_string(length));
  const int size = options.size;
  const int n = options.objects;
  const int64_t frame_bytes = static_cast<int64_t>(size) * size * 3;
  const int64_t limit = std::numeric_limits<int64_t>::max() / 4;
  if (count > 0 && length > limit / frame_bytes / count)
    throw Error("bouncing_shapes: count * length * size^2 * 3 is too large");

  Clips clips;
  clips.count = count;
  clips.length = length;
  clips.height = size;
  clips.width = size;
  clips.channels = 3;
  clips.objects = n;
  clips.source = "bouncing_shapes";
  clips.fps = 10;
  clips.generator_json = generator_json(options, seed);
  clips.frames.assign(static_cast<size_t>(count * length * frame_bytes), 0);
  clips.states.assign(static_cast<size_t>(count * length * n * kStateDim), 0.0f);
  clips.colors.resize(static_cast<size_t>(count * n * 3));
  const bool hides = options.memory != "none";
  if (hides) clips.visible.assign(static_cast<size_t>(count * length * n), 1);
  const int bar_x = options.occluder_x >= 0 ? options.occluder_x : (size - options.occluder_width) / 2;
  const uint8_t grey = static_cast<uint8_t>(options.hidden_value);

  std::vector<Shape> shapes(n);
  std::vector<int> colour(n);
  for (int64_t c = 0; c < count; ++c) {
    Rng rng(clip_seed(seed, c));
    for (int i = 0; i < n; ++i) {
      Shape& s = shapes[i];
      s.r = rng.uniform(options.radius_min, options.radius_max);
      s.x = rng.uniform(s.r, size - s.r);
      s.y = rng.uniform(s.r, size - s.r);
      const double angle = rng.uniform(0, 2 * kPi);
      const double speed = rng.uniform(options.speed_min, options.speed_max);
      s.vx = speed * std::cos(angle);
      s.vy = speed * std::sin(angle);
      s.square = (options.squares && i % 2 == 1) ? 1 : 0;
      colour[i] = i % kShapePaletteSize;
    }
    if (options.colors == "random") {  // a uniform draw without replacement: the first n of a shuffled palette
      std::array<int, kShapePaletteSize> palette{};
      for (int k = 0; k < kShapePaletteSize; ++k) palette[k] = k;
      for (int k = kShapePaletteSize - 1; k > 0; --k) std::swap(palette[k], palette[rng.below(k + 1)]);
      for (int i = 0; i < n; ++i) colour[i] = palette[i];
    }
    for (int i = 0; i < n; ++i)
      for (int k = 0; k < 3; ++k) clips.colors[(c * n + i) * 3 + k] = kShapePalette[colour[i]][k];
    const std::pair<int64_t, int64_t> gap = options.memory == "blackout" ? draw_gap(options, length, rng)
                                                                         : std::pair<int64_t, int64_t>{0, 0};
    for (int64_t t = 0; t < length; ++t) {
      if (t > 0) {
        for (Shape& s : shapes) {
          step_axis(s.x, s.vx, s.r, size);
          step_axis(s.y, s.vy, s.r, size);
        }
      }
      uint8_t* frame = clips.frames.data() + (c * length + t) * frame_bytes;
      float* state = clips.states.data() + (c * length + t) * n * kStateDim;
      uint8_t* visible = hides ? clips.visible.data() + (c * length + t) * n : nullptr;
      const bool blackout = t >= gap.first && t < gap.first + gap.second;
      if (blackout) std::fill(frame, frame + frame_bytes, grey);
      for (int i = 0; i < n; ++i) {
        const Shape& s = shapes[i];
        if (!blackout) draw(s, kShapePalette[colour[i]], frame, size);
        if (blackout) visible[i] = 0;
        if (options.memory == "occluder" && !clear_of(s, bar_x, bar_x + options.occluder_width)) visible[i] = 0;
        float* st = state + i * kStateDim;
        st[0] = static_cast<float>(s.x);
        st[1] = static_cast<float>(s.y);
        st[2] = static_cast<float>(s.vx);
        st[3] = static_cast<float>(s.vy);
        st[4] = static_cast<float>(s.r);
        st[5] = static_cast<float>(s.square);
      }
      if (options.memory == "occluder")  // the bar in front of every shape
        for (int py = 0; py < size; ++py)
          std::fill(frame + (static_cast<int64_t>(py) * size + bar_x) * 3,
                    frame + (static_cast<int64_t>(py) * size + bar_x + options.occluder_width) * 3, grey);
    }
  }
  return clips;
}

}  // namespace dfb

// Oracle metrics for bouncing_shapes (see oracle.h): find_shapes per frame, colour
// matching to the true objects, then per-frame errors and the step to the previous frame.
#include "metrics/oracle.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <string>
#include <tuple>

#include "base/error.h"
#include "datasets/bouncing_shapes.h"

namespace dfb {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kPi = 3.14159265358979323846;

double mean_or_nan(double sum, int n) { return n > 0 ? sum / n : kNaN; }

std::string num(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

// Where object k was found in a frame.
struct Match {
  bool found = false;
  double x = 0, y = 0;
};

// True when both centres lie within `reach` px of the same wall, i.e. the step between
// them may have bounced off it.
bool near_same_wall(double a, double b, double extent, double reach) {
  return (a < reach && b < reach) || (a > extent - reach && b > extent - reach);
}

// Matches the objects of one frame (see oracle.h): match[k] = index into `shapes` or -1.
void match_objects(const std::vector<ShapeComponent>& shapes, const std::vector<std::vector<int64_t>>& by_colour,
                   const float* state, const std::vector<Match>& previous, std::vector<int>& match) {
  std::fill(match.begin(), match.end(), -1);
  std::vector<int> candidates;
  for (int c = 0; c < kShapePaletteSize; ++c) {
    const std::vector<int64_t>& objects = by_colour[c];
    if (objects.empty()) continue;
    candidates.clear();
    for (int s = 0; s < static_cast<int>(shapes.size()); ++s)
      if (shapes[s].color == c) candidates.push_back(s);
    // Largest first (ties: first found), keep as many as there are objects of the colour.
    std::stable_sort(candidates.begin(), candidates.end(),
                     [&](int a, int b) { return shapes[a].area > shapes[b].area; });
    if (candidates.size() > objects.size()) candidates.resize(objects.size());
    if (objects.size() == 1) {
      if (!candidates.empty()) match[objects[0]] = candidates[0];
      continue;
    }
    // Shared colour: nearest (object reference, shape) pairs first.
    std::vector<std::tuple<double, int64_t, int>> pairs;
    for (int64_t k : objects) {
      const float* s = state + k * kStateDim;
      const double rx = previous[k].found ? previous[k].x : s[0];
      const double ry = previous[k].found ? previous[k].y : s[1];
      for (int cand : candidates) pairs.emplace_back(std::hypot(shapes[cand].x - rx, shapes[cand].y - ry), k, cand);
    }
    std::sort(pairs.begin(), pairs.end());
    std::vector<bool> taken(shapes.size(), false);
    for (const auto& [d, k, cand] : pairs)
      if (match[k] < 0 && !taken[cand]) match[k] = cand, taken[cand] = true;
  }
}

}  // namespace

void validate(const OracleOptions& o) {
  auto check = [](double v, const char* name) {
    if (!std::isfinite(v) || v < 0) throw Error(std::string("oracle.") + name + " must be finite and >= 0, got " + num(v));
  };
  check(o.radius_tolerance, "radius_tolerance");
  check(o.color_tolerance, "color_tolerance");
  check(o.jump_factor, "jump_factor");
  check(o.jump_margin, "jump_margin");
  check(o.bounce_margin, "bounce_margin");
  if (o.detect.min_value < 0 || o.detect.min_value > 255)
    throw Error("oracle.detect.min_value must be in 0..255, got " + std::to_string(o.detect.min_value));
  if (o.detect.min_area < 1)
    throw Error("oracle.detect.min_area must be >= 1, got " + std::to_string(o.detect.min_area));
}

std::vector<OracleFrame> oracle_clip(const uint8_t* clip, int64_t length, int height, int width, const float* states,
                                     const uint8_t* colors, int64_t objects, const OracleOptions& o) {
  validate(o);
  if (objects < 1 || states == nullptr || colors == nullptr)
    throw Error("oracle: the clip has no true object states (objects = " + std::to_string(objects) +
                "; bouncing_shapes writes them as /states and /colors)");
  if (clip == nullptr) throw Error("oracle: the clip is null");
  if (length < 1 || height < 1 || width < 1)
    throw Error("oracle: empty clip (length " + std::to_string(length) + ", " + std::to_string(height) + "x" +
                std::to_string(width) + ")");
  for (int64_t n = 0; n < length * objects * kStateDim; ++n)
    if (!std::isfinite(states[n]))
      throw Error("oracle: true state " + std::to_string(n % kStateDim) + " of object " +
                  std::to_string(n / kStateDim % objects) + " at t = " + std::to_string(n / kStateDim / objects) +
                  " is not finite");
  // The objects of each palette colour; an object's colour is the label find_shapes would
  // give a pixel of its true colour.
  std::vector<std::vector<int64_t>> by_colour(kShapePaletteSize);
  for (int64_t k = 0; k < objects; ++k) {
    const uint8_t* c = colors + 3 * k;
    const int palette = palette_label(c, o.detect.min_value);
    if (palette < 0)
      throw Error("oracle: object " + std::to_string(k) + "'s colour (" + std::to_string(c[0]) + ", " +
                  std::to_string(c[1]) + ", " + std::to_string(c[2]) +
                  ") would be taken for background, not a bouncing_shapes palette colour");
    by_colour[palette].push_back(k);
  }

  const int64_t frame_bytes = static_cast<int64_t>(height) * width * 3;
  std::vector<OracleFrame> out(static_cast<size_t>(length));
  std::vector<Match> previous(static_cast<size_t>(objects)), current(static_cast<size_t>(objects));
  std::vector<int> match(static_cast<size_t>(objects));
  for (int64_t t = 0; t < length; ++t) {
    const std::vector<ShapeComponent> shapes = find_shapes(clip + t * frame_bytes, height, width, o.detect);
    const float* state = states + t * objects * kStateDim;
    match_objects(shapes, by_colour, state, previous, match);

    OracleFrame& f = out[t];
    f.count_correct = static_cast<int64_t>(shapes.size()) == objects ? 1.0 : 0.0;
    bool valid = f.count_correct == 1.0, jump = false;
    double radius = 0, color = 0, position = 0, speed = 0;
    int matched = 0, stepped = 0;
    for (int64_t k = 0; k < objects; ++k) {
      const float* s = state + k * kStateDim;
      current[k] = Match{};
      if (match[k] < 0) {
        valid = false;
        if (t > 0 && previous[k].found) jump = true;  // vanished
        continue;
      }
      const ShapeComponent& m = shapes[match[k]];
      current[k] = Match{true, m.x, m.y};
      const double area = m.area;
      const double r = s[5] > 0.5f ? std::sqrt(area) / 2 : std::sqrt(area / kPi);
      const double radius_error = std::fabs(r - s[4]);
      double c2 = 0;
      for (int ch = 0; ch < 3; ++ch) c2 += (m.rgb[ch] - colors[3 * k + ch]) * (m.rgb[ch] - colors[3 * k + ch]);
      const double color_error = std::sqrt(c2);
      radius += radius_error, color += color_error, ++matched;
      position += std::hypot(m.x - s[0], m.y - s[1]);
      valid = valid && radius_error <= o.radius_tolerance && color_error <= o.color_tolerance;
      if (t == 0) continue;
      if (!previous[k].found) {
        jump = true;  // appeared
        continue;
      }
      const double step = std::hypot(m.x - previous[k].x, m.y - previous[k].y);
      const double v = std::hypot(s[2], s[3]);
      if (step > o.jump_factor * v + o.jump_margin) jump = true;
      const double reach = s[4] + v + o.bounce_margin;
      if (!near_same_wall(previous[k].x, m.x, width, reach) && !near_same_wall(previous[k].y, m.y, height, reach))
        speed += std::fabs(step - v), ++stepped;
    }
    f.valid = valid ? 1.0 : 0.0;
    f.radius_error = mean_or_nan(radius, matched);
    f.color_error = mean_or_nan(color, matched);
    f.position_error = mean_or_nan(position, matched);
    f.speed_error = t > 0 ? mean_or_nan(speed, stepped) : kNaN;
    f.jump = t > 0 ? (jump ? 1.0 : 0.0) : kNaN;
    previous.swap(current);
  }
  return out;
}

std::vector<std::vector<OracleFrame>> oracle_clips(const Clips& video, const Clips& truth, const OracleOptions& o) {
  if (video.channels != 3)
    throw Error("oracle: frames must have 3 channels (RGB), got " + std::to_string(video.channels));
  if (truth.objects < 1 || truth.states.empty() || truth.colors.empty())
    throw Error("oracle: the truth has no object states (objects = " + std::to_string(truth.objects) +
                "; bouncing_shapes writes them as /states and /colors)");
  if (video.count != truth.count || video.length != truth.length || video.height != truth.height ||
      video.width != truth.width)
    throw Error("oracle: the video [" + std::to_string(video.count) + ", " + std::to_string(video.length) + ", " +
                std::to_string(video.height) + ", " + std::to_string(video.width) + "] and its truth [" +
                std::to_string(truth.count) + ", " + std::to_string(truth.length) + ", " +
                std::to_string(truth.height) + ", " + std::to_string(truth.width) + "] differ in shape");
  if (static_cast<int64_t>(video.frames.size()) != video.count * video.clip_bytes())
    throw Error("oracle: the video holds " + std::to_string(video.frames.size()) +
                " bytes, expected count * length * height * width * 3 = " +
                std::to_string(video.count * video.clip_bytes()));
  const int64_t state_values = truth.count * truth.length * truth.objects * kStateDim;
  if (static_cast<int64_t>(truth.states.size()) != state_values ||
      static_cast<int64_t>(truth.colors.size()) != truth.count * truth.objects * 3)
    throw Error("oracle: the truth holds " + std::to_string(truth.states.size()) + " state values and " +
                std::to_string(truth.colors.size()) + " colour bytes, expected " + std::to_string(state_values) +
                " and " + std::to_string(truth.count * truth.objects * 3));
  std::vector<std::vector<OracleFrame>> out;
  out.reserve(static_cast<size_t>(video.count));
  for (int64_t i = 0; i < video.count; ++i)
    out.push_back(oracle_clip(video.clip(i), video.length, static_cast<int>(video.height),
                              static_cast<int>(video.width),
                              truth.states.data() + i * truth.length * truth.objects * kStateDim,
                              truth.colors.data() + i * truth.objects * 3, truth.objects, o));
  return out;
}

}  // namespace dfb

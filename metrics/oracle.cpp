// Oracle metrics for bouncing_shapes (see oracle.h).
#include "metrics/oracle.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "core/error.h"
#include "datasets/bouncing_shapes.h"
#include "datasets/clips.h"

namespace dfb {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

int nearest_palette(const uint8_t* rgb) {
  int best = 0;
  double best_d = std::numeric_limits<double>::infinity();
  for (int c = 0; c < kShapePaletteSize; ++c) {
    double d = 0;
    for (int k = 0; k < 3; ++k) d += std::pow(static_cast<double>(rgb[k]) - kShapePalette[c][k], 2);
    if (d < best_d) best_d = d, best = c;
  }
  return best;
}

double mean_or_nan(double sum, int n) { return n > 0 ? sum / n : kNaN; }

}  // namespace

std::vector<OracleFrame> oracle_clip(const uint8_t* clip, int64_t length, int height, int width, const float* states,
                                     const uint8_t* colors, int64_t objects, const OracleOptions& o) {
  if (objects < 1 || states == nullptr || colors == nullptr)
    throw Error("oracle: the clip has no true object states (bouncing_shapes writes them as /states and /colors)");
  if (length < 1 || height < 1 || width < 1) throw Error("oracle: empty clip");
  const int64_t frame_bytes = static_cast<int64_t>(height) * width * 3;
  std::vector<int> palette(static_cast<size_t>(objects));
  for (int64_t k = 0; k < objects; ++k) palette[k] = nearest_palette(colors + 3 * k);

  std::vector<OracleFrame> out(static_cast<size_t>(length));
  std::vector<const ShapeComponent*> previous(static_cast<size_t>(objects), nullptr);
  std::vector<ShapeComponent> shapes_prev, shapes;
  for (int64_t t = 0; t < length; ++t) {
    shapes = find_shapes(clip + t * frame_bytes, height, width, o.detect);
    std::sort(shapes.begin(), shapes.end(), [](const ShapeComponent& a, const ShapeComponent& b) {
      return a.color != b.color ? a.color < b.color : a.area > b.area;
    });
    // Object k takes the largest shape of its colour not taken by an earlier object of that colour.
    std::vector<const ShapeComponent*> match(static_cast<size_t>(objects), nullptr);
    std::vector<bool> taken(shapes.size(), false);
    for (int64_t k = 0; k < objects; ++k)
      for (size_t s = 0; s < shapes.size(); ++s)
        if (!taken[s] && shapes[s].color == palette[k]) {
          taken[s] = true, match[k] = &shapes[s];
          break;
        }
    OracleFrame& f = out[t];
    f.count_correct = static_cast<int64_t>(shapes.size()) == objects ? 1.0 : 0.0;
    bool all_ok = f.count_correct == 1.0;
    double radius = 0, color = 0, position = 0, speed = 0;
    int matched = 0, moved = 0;
    bool jump = false;
    for (int64_t k = 0; k < objects; ++k) {
      const float* s = states + (t * objects + k) * kStateDim;
      const ShapeComponent* m = match[k];
      if (t > 0 && (m == nullptr) != (previous[k] == nullptr)) jump = true;  // appeared or vanished
      if (m == nullptr) {
        all_ok = false;
        continue;
      }
      const bool square = s[5] > 0.5f;
      const double r = square ? std::sqrt(static_cast<double>(m->area)) / 2 : std::sqrt(m->area / M_PI);
      const double re = std::fabs(r - s[4]);
      double ce = 0;
      for (int c = 0; c < 3; ++c) ce += std::pow(m->rgb[c] - colors[3 * k + c], 2);
      ce = std::sqrt(ce);
      radius += re, color += ce, ++matched;
      position += std::hypot(m->x - s[0], m->y - s[1]);
      all_ok = all_ok && re <= o.radius_tolerance && ce <= o.color_tolerance;
      if (t > 0 && previous[k] != nullptr) {
        const double step = std::hypot(m->x - previous[k]->x, m->y - previous[k]->y);
        const double v = std::hypot(s[2], s[3]);
        speed += std::fabs(step - v), ++moved;
        if (step > o.jump_factor * v + o.jump_margin) jump = true;
      }
    }
    f.valid = all_ok ? 1.0 : 0.0;
    f.radius_error = mean_or_nan(radius, matched);
    f.color_error = mean_or_nan(color, matched);
    f.position_error = mean_or_nan(position, matched);
    f.speed_error = t > 0 ? mean_or_nan(speed, moved) : kNaN;
    f.jump = t > 0 ? (jump ? 1.0 : 0.0) : kNaN;
    // The matches point into `shapes`' buffer, which swap hands to shapes_prev intact.
    shapes_prev.swap(shapes);
    previous = match;
  }
  return out;
}

}  // namespace dfb

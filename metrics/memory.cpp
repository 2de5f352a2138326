// Memory metrics (see memory.h).
#include "metrics/memory.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <utility>

#include "base/error.h"

namespace dfb {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr size_t kMaxShapes = 12;  // the largest shapes a frame is matched with (2^12 subsets)

void check(const Clips& video, const Clips& truth, int64_t context) {
  if (truth.objects < 1 || truth.states.empty() || truth.colors.empty())
    throw Error("memory metrics: the truth has no object states (bouncing_shapes writes /truth/states and /colors)");
  if (truth.visible.size() != static_cast<size_t>(truth.count * truth.length * truth.objects))
    throw Error("memory metrics: the truth has no visibility record (/truth/visible: which objects each frame "
                "shows; bouncing_shapes writes it with a memory option)");
  if (video.count != truth.count || video.length != truth.length || video.height != truth.height ||
      video.width != truth.width || video.channels != 3 || truth.channels != 3)
    throw Error("memory metrics: the rollouts (" + std::to_string(video.count) + " x " + std::to_string(video.length) +
                " frames) must be RGB and match their truth (" + std::to_string(truth.count) + " x " +
                std::to_string(truth.length) + ")");
  if (context < 0 || context > truth.length) throw Error("memory metrics: context " + std::to_string(context) + " is outside the clips");
}

// The gaps of clip i that end inside the generated frames: (back, returning objects, gap length).
struct Gap {
  int64_t back = 0, length = 0;
  std::vector<int64_t> objects;
};
std::vector<Gap> gaps_of(const Clips& truth, int64_t i, int64_t context) {
  const int64_t k = truth.objects, l = truth.length;
  auto visible = [&](int64_t t, int64_t o) { return truth.visible[(i * l + t) * k + o] != 0; };
  std::vector<Gap> out;
  for (int64_t t = std::max<int64_t>(context, 1); t < l; ++t) {
    Gap g;
    g.back = t;
    for (int64_t o = 0; o < k; ++o) {
      if (!visible(t, o) || visible(t - 1, o)) continue;
      int64_t run = 0;
      while (t - 1 - run >= 0 && !visible(t - 1 - run, o)) ++run;
      g.objects.push_back(o);
      g.length = std::max(g.length, run);
    }
    if (!g.objects.empty()) out.push_back(g);
  }
  return out;
}

// Scores one gap of clip i of `truth` on the frames `frames_of(t)` shows.
template <class FrameOf>
MemoryScore score_gap(const Clips& truth, int64_t i, const Gap& g, FrameOf frames_of, const MemoryOptions& o) {
  const int64_t k = truth.objects, l = truth.length;
  MemoryScore s;
  s.clip = i;
  s.gap = g.length;
  s.back = g.back;
  double recalled = 0, returning = 0, counted = 0, frames = 0, distance = 0, matched = 0;
  for (int64_t t = g.back; t < std::min(l, g.back + o.frames_after); ++t) {
    std::vector<int64_t> in_view;
    std::vector<std::pair<double, double>> where;
    for (int64_t obj = 0; obj < k; ++obj)
      if (truth.visible[(i * l + t) * k + obj]) {
        const float* st = truth.states.data() + ((i * l + t) * k + obj) * kStateDim;
        in_view.push_back(obj);
        where.emplace_back(st[0], st[1]);
      }
    const std::vector<ShapeComponent> shapes = find_shapes(frames_of(t), static_cast<int>(truth.height),
                                                           static_cast<int>(truth.width), o.detect);
    const std::vector<int> match = assign_by_position(where, shapes);
    frames += 1;
    counted += shapes.size() == in_view.size() ? 1 : 0;
    for (size_t v = 0; v < in_view.size(); ++v) {
      if (std::find(g.objects.begin(), g.objects.end(), in_view[v]) == g.objects.end()) continue;
      returning += 1;
      if (match[v] < 0) continue;
      const ShapeComponent& m = shapes[static_cast<size_t>(match[v])];
      const int colour = palette_label(truth.colors.data() + (i * k + in_view[v]) * 3, o.detect.min_value);
      recalled += m.color == colour ? 1 : 0;
      distance += std::hypot(m.x - where[v].first, m.y - where[v].second);
      matched += 1;
    }
  }
  s.colour_recall = returning > 0 ? recalled / returning : kNaN;
  s.count_right = frames > 0 ? counted / frames : kNaN;
  s.position_error = matched > 0 ? distance / matched : kNaN;
  return s;
}

}  // namespace

std::vector<int> assign_by_position(const std::vector<std::pair<double, double>>& objects,
                                    const std::vector<ShapeComponent>& all_shapes) {
  std::vector<int> match(objects.size(), -1);
  // The largest shapes only (specks never outbid a shape; keeps the subsets few).
  std::vector<int> keep(all_shapes.size());
  for (size_t s = 0; s < keep.size(); ++s) keep[s] = static_cast<int>(s);
  std::stable_sort(keep.begin(), keep.end(), [&](int a, int b) { return all_shapes[a].area > all_shapes[b].area; });
  if (keep.size() > kMaxShapes) keep.resize(kMaxShapes);
  if (objects.size() > kMaxShapes) throw Error("memory metrics: more than " + std::to_string(kMaxShapes) + " objects");
  const size_t n = objects.size(), m = keep.size();
  if (n == 0 || m == 0) return match;
  auto cost = [&](size_t obj, size_t shape) {
    const ShapeComponent& c = all_shapes[static_cast<size_t>(keep[shape])];
    return std::hypot(c.x - objects[obj].first, c.y - objects[obj].second);
  };
  // Rows: the smaller side, each given a distinct column; dp over the columns used so far.
  const bool rows_are_objects = n <= m;
  const size_t rows = rows_are_objects ? n : m, cols = rows_are_objects ? m : n;
  auto c = [&](size_t r, size_t col) { return rows_are_objects ? cost(r, col) : cost(col, r); };
  const size_t subsets = size_t{1} << cols;
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> dp(subsets, inf), next(subsets);
  std::vector<std::vector<int>> choice(rows, std::vector<int>(subsets, -1));
  dp[0] = 0;
  for (size_t r = 0; r < rows; ++r) {
    std::fill(next.begin(), next.end(), inf);
    for (size_t mask = 0; mask < subsets; ++mask) {
      if (dp[mask] == inf) continue;
      for (size_t col = 0; col < cols; ++col) {
        if (mask & (size_t{1} << col)) continue;
        const size_t to = mask | (size_t{1} << col);
        const double v = dp[mask] + c(r, col);
        if (v < next[to]) {
          next[to] = v;
          choice[r][to] = static_cast<int>(col);
        }
      }
    }
    dp.swap(next);
  }
  size_t best = 0;
  for (size_t mask = 0; mask < subsets; ++mask)
    if (dp[mask] < dp[best]) best = mask;
  for (size_t r = rows; r-- > 0;) {  // walk the choices back
    const int col = choice[r][best];
    if (rows_are_objects) match[r] = keep[static_cast<size_t>(col)];
    else match[static_cast<size_t>(col)] = keep[r];
    best &= ~(size_t{1} << col);
  }
  return match;
}

std::vector<MemoryScore> memory_scores(const Clips& video, const Clips& truth, int64_t context, const MemoryOptions& o) {
  check(video, truth, context);
  std::vector<MemoryScore> out;
  for (int64_t i = 0; i < truth.count; ++i)
    for (const Gap& g : gaps_of(truth, i, context))
      out.push_back(score_gap(truth, i, g, [&](int64_t t) { return video.frame(i, t); }, o));
  return out;
}

std::vector<MemoryScore> memory_chance(const Clips& truth, int64_t context, const MemoryOptions& o) {
  check(truth, truth, context);
  std::vector<MemoryScore> out;
  if (truth.count < 2) return out;
  for (int64_t i = 0; i < truth.count; ++i)
    for (const Gap& g : gaps_of(truth, i, context)) {
      MemoryScore mean;
      double n_recall = 0, n_count = 0, n_position = 0;
      mean.colour_recall = mean.count_right = mean.position_error = 0;
      for (int64_t j = 0; j < truth.count; ++j) {
        if (j == i) continue;
        const MemoryScore s = score_gap(truth, i, g, [&](int64_t t) { return truth.frame(j, t); }, o);
        auto add = [](double v, double& sum, double& n) {
          if (!std::isfinite(v)) return;
          sum += v;
          n += 1;
        };
        add(s.colour_recall, mean.colour_recall, n_recall);
        add(s.count_right, mean.count_right, n_count);
        add(s.position_error, mean.position_error, n_position);
      }
      mean.clip = i;
      mean.gap = g.length;
      mean.back = g.back;
      mean.colour_recall = n_recall > 0 ? mean.colour_recall / n_recall : kNaN;
      mean.count_right = n_count > 0 ? mean.count_right / n_count : kNaN;
      mean.position_error = n_position > 0 ? mean.position_error / n_position : kNaN;
      out.push_back(mean);
    }
  return out;
}

}  // namespace dfb

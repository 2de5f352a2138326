// Memory metrics (metrics/memory.h, memory_summary.h): the assignment against brute force, the
// true continuation scoring perfectly, a forgetful rollout scoring at the computed chance level,
// the memory horizon by its formula.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "base/error.h"
#include "datasets/bouncing_shapes.h"
#include "metrics/memory.h"
#include "metrics/memory_summary.h"

namespace dfb {
namespace {

ShapeComponent shape_at(double x, double y, int colour = 0, int area = 50) {
  ShapeComponent s;
  s.x = x;
  s.y = y;
  s.color = colour;
  s.area = area;
  return s;
}

double total_distance(const std::vector<std::pair<double, double>>& objects, const std::vector<ShapeComponent>& shapes,
                      const std::vector<int>& match) {
  double d = 0;
  for (size_t k = 0; k < objects.size(); ++k)
    if (match[k] >= 0) d += std::hypot(shapes[match[k]].x - objects[k].first, shapes[match[k]].y - objects[k].second);
  return d;
}

TEST(MemoryMetrics, AssignmentIsTheOptimalOneOnPosition) {
  // Hand case: the greedy nearest pair (object 0 to shape 0, 1 apart) forces object 1 far away;
  // the optimum gives object 0 shape 1 and object 1 shape 0.
  const std::vector<std::pair<double, double>> objects = {{0, 0}, {2, 0}};
  const std::vector<ShapeComponent> shapes = {shape_at(1, 0), shape_at(-1.5, 0)};
  EXPECT_EQ(assign_by_position(objects, shapes), (std::vector<int>{1, 0}));
  // Fewer shapes than objects: the shape goes to the nearer object, the other is unmatched.
  EXPECT_EQ(assign_by_position(objects, {shape_at(2.2, 0)}), (std::vector<int>{-1, 0}));
  EXPECT_EQ(assign_by_position(objects, {}), (std::vector<int>{-1, -1}));
  // Against brute force over every injection, on random instances of up to 4 objects and 5 shapes.
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> u(0, 32);
  for (int trial = 0; trial < 200; ++trial) {
    const size_t n = 1 + trial % 4, m = 1 + (trial / 4) % 5;
    std::vector<std::pair<double, double>> obj(n);
    std::vector<ShapeComponent> sh;
    for (auto& o : obj) o = {u(rng), u(rng)};
    for (size_t j = 0; j < m; ++j) sh.push_back(shape_at(u(rng), u(rng)));
    const std::vector<int> got = assign_by_position(obj, sh);
    EXPECT_EQ(static_cast<size_t>(std::count_if(got.begin(), got.end(), [](int v) { return v >= 0; })), std::min(n, m));
    // Brute force: permutations of the shapes, the first n (or the objects' first m) paired.
    std::vector<int> perm(std::max(n, m));
    std::iota(perm.begin(), perm.end(), 0);
    double best = 1e300;
    do {
      std::vector<int> match(n, -1);
      for (size_t k = 0; k < n; ++k)
        if (perm[k] < static_cast<int>(m)) match[k] = perm[k];
      if (static_cast<size_t>(std::count_if(match.begin(), match.end(), [](int v) { return v >= 0; })) == std::min(n, m))
        best = std::min(best, total_distance(obj, sh, match));
    } while (std::next_permutation(perm.begin(), perm.end()));
    EXPECT_NEAR(total_distance(obj, sh, got), best, 1e-9) << "trial " << trial;
  }
}

// Evaluation clips of the memory benchmark: context 3, a blackout of `gap` frames, then 4 frames.
BouncingShapesOptions memory_options(int gap) {
  BouncingShapesOptions o;
  o.squares = false;
  o.colors = "random";
  o.memory = "blackout";
  o.gap_min = o.gap_max = gap;
  o.gap_start_min = o.gap_start_max = 3;
  return o;
}

TEST(MemoryMetrics, TheTrueContinuationIsPerfect) {
  const int gap = 6;
  const Clips truth = generate_bouncing_shapes(memory_options(gap), 40, 3 + gap + 4, 21);
  const int64_t context = 3 + gap;  // the rollout is given the gap and continues after it
  const std::vector<MemoryScore> s = memory_scores(truth, truth, context);
  ASSERT_EQ(s.size(), 40u) << "one gap per clip, ending at the first generated frame";
  int64_t close = 0, counted = 0;
  for (const MemoryScore& m : s) {
    EXPECT_EQ(m.gap, gap);
    EXPECT_EQ(m.back, context);
    // A disc wholly behind another leaves one shape: count those frames out.
    counted += m.count_right == 1.0 ? 1 : 0;
    if (m.count_right == 1.0) {
      EXPECT_EQ(m.colour_recall, 1.0) << "clip " << m.clip;
    }
    // The centroid of a drawn disc is within rounding of its centre, unless another disc covers part of it.
    close += m.position_error < 0.5 ? 1 : 0;
  }
  EXPECT_GE(close, 36) << "of 40";
  EXPECT_GE(counted, 38) << "of 40";
  // A gap that ends inside the context is not scored: the rollout was given those frames.
  EXPECT_TRUE(memory_scores(truth, truth, context + 1).empty());
  // Without a visibility record there is nothing to score.
  Clips plain = truth;
  plain.visible.clear();
  EXPECT_THROW(memory_scores(plain, plain, context), Error);
}

double mean_of(const std::vector<MemoryScore>& s, double MemoryScore::*field, double* sd = nullptr) {
  double sum = 0, sq = 0, n = 0;
  for (const MemoryScore& m : s)
    if (std::isfinite(m.*field)) {
      sum += m.*field;
      sq += (m.*field) * (m.*field);
      n += 1;
    }
  if (sd) *sd = std::sqrt(std::max(0.0, sq / n - (sum / n) * (sum / n)));
  return sum / n;
}

TEST(MemoryMetrics, AForgetfulRolloutScoresAtTheComputedChanceLevel) {
  const int gap = 4, clips = 300;
  const Clips truth = generate_bouncing_shapes(memory_options(gap), clips, 3 + gap + 3, 5);
  const int64_t context = 3 + gap;
  // A model that forgot: after the gap it draws a plausible scene of its own (another seed's
  // clips: colours and positions from the data's distribution, unrelated to this clip's past).
  const Clips forgetful = generate_bouncing_shapes(memory_options(gap), clips, 3 + gap + 3, 77);
  const std::vector<MemoryScore> got = memory_scores(forgetful, truth, context);
  const std::vector<MemoryScore> chance = memory_chance(truth, context);
  ASSERT_EQ(got.size(), chance.size());
  double sd_recall = 0, sd_position = 0;
  const double recall = mean_of(got, &MemoryScore::colour_recall, &sd_recall);
  const double position = mean_of(got, &MemoryScore::position_error, &sd_position);
  const double chance_recall = mean_of(chance, &MemoryScore::colour_recall);
  const double chance_position = mean_of(chance, &MemoryScore::position_error);
  // Two distinct colours out of six: a forgotten colour is right 1/6 of the time.
  EXPECT_NEAR(chance_recall, 1.0 / 6.0, 0.03);
  // The forgetful rollout's mean lies within 4 standard errors of the chance level.
  EXPECT_NEAR(recall, chance_recall, 4 * sd_recall / std::sqrt(clips)) << "sd " << sd_recall;
  EXPECT_NEAR(position, chance_position, 4 * sd_position / std::sqrt(clips)) << "sd " << sd_position;
  EXPECT_GT(chance_position, 5.0) << "a forgotten position is far off (px)";
  // Shuffled colours at the right places: recall falls to 0 (each object shows the other's colour).
  Clips swapped = truth;
  for (int64_t i = 0; i < swapped.count; ++i) {
    const int64_t back = context;
    for (int64_t t = back; t < swapped.length; ++t) {
      uint8_t* f = swapped.frames.data() + (i * swapped.length + t) * swapped.frame_bytes();
      const uint8_t* a = truth.colors.data() + (i * 2) * 3;
      const uint8_t* b = truth.colors.data() + (i * 2 + 1) * 3;
      for (int64_t p = 0; p < swapped.height * swapped.width; ++p) {
        uint8_t* px = f + p * 3;
        if (std::equal(px, px + 3, a)) std::copy(b, b + 3, px);
        else if (std::equal(px, px + 3, b)) std::copy(a, a + 3, px);
      }
    }
  }
  double n_counted = 0, recalled = 0;
  for (const MemoryScore& m : memory_scores(swapped, truth, context))
    if (m.count_right == 1) {
      recalled += m.colour_recall;
      n_counted += 1;
    }
  EXPECT_GT(n_counted, clips / 2);
  EXPECT_EQ(recalled, 0.0);
}

TEST(MemorySummary, HorizonIsTheLastGapOfAnUnbrokenRunAboveChance) {
  const std::vector<int64_t> gaps = {4, 8, 16, 32};
  const std::vector<double> chance = {0.2, 0.2, 0.2, 0.2};
  EXPECT_EQ(memory_horizon(gaps, {0.9, 0.8, 0.25, 0.9}, chance, 0.1), 8) << "16 fails, so 32 does not count";
  EXPECT_EQ(memory_horizon(gaps, {0.25, 0.9, 0.9, 0.9}, chance, 0.1), 0);
  EXPECT_EQ(memory_horizon(gaps, {0.9, 0.9, 0.9, 0.9}, chance, 0.1), 32);
  EXPECT_EQ(memory_horizon(gaps, {0.9, NAN, 0.9, 0.9}, chance, 0.1), 4);

  // Two seeds of a perfect memory at gap 4 and a forgetful one at gap 8: horizon 4 on every resample.
  MemorySet set;
  set.name = "m";
  auto scores = [](double recall, int64_t gap) {
    std::vector<MemoryScore> v(10);
    for (MemoryScore& s : v) {
      s.colour_recall = recall;
      s.count_right = 1;
      s.position_error = 1;
      s.gap = gap;
    }
    return v;
  };
  set.by_gap[4] = {scores(1.0, 4), scores(1.0, 4)};
  set.by_gap[8] = {scores(0.1, 8), scores(0.2, 8)};
  set.chance[4] = scores(0.17, 4);
  set.chance[8] = scores(0.17, 8);
  BootstrapOptions b;
  b.resamples = 200;
  const nlohmann::json j = summarize_memory({set}, MemoryOptions{}, b);
  const nlohmann::json& m = j["methods"]["m"];
  ASSERT_EQ(m["gaps"].size(), 2u);
  EXPECT_EQ(m["gaps"][0]["rollouts"], 20);
  EXPECT_EQ(m["gaps"][0]["seeds"], 2);
  EXPECT_DOUBLE_EQ(m["gaps"][0]["colour_recall"]["mean"].get<double>(), 1.0);
  EXPECT_NEAR(m["gaps"][1]["colour_recall"]["mean"].get<double>(), 0.15, 1e-12);
  EXPECT_GE(m["gaps"][1]["colour_recall"]["lo"].get<double>(), 0.1 - 1e-12) << "resamples mix the two seeds";
  EXPECT_NEAR(m["gaps"][1]["chance"]["colour_recall"].get<double>(), 0.17, 1e-12);
  EXPECT_EQ(m["horizon"]["mean"].get<double>(), 4.0);
  EXPECT_EQ(m["horizon"]["lo"].get<double>(), 4.0);
  EXPECT_EQ(m["horizon"]["hi"].get<double>(), 4.0);
  EXPECT_FALSE(m["horizon"]["censored"].get<bool>());
  // Seeds that scored different clips cannot be paired.
  set.by_gap[8].back().pop_back();
  EXPECT_THROW(summarize_memory({set}, MemoryOptions{}, b), Error);
}

}  // namespace
}  // namespace dfb

// The memory options of bouncing_shapes (docs/design.md §5.1): random colours, blackout gaps
// and the occluder; what they record in `visible` and how dataset files carry it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "base/error.h"
#include "datasets/bouncing_shapes.h"
#include "formats/dataset_file.h"
#include "tests/plain/h5_test_util.h"

namespace dfb {
namespace {

using h5_test::expect_error;
using h5_test::temp_path;

BouncingShapesOptions blackout(int gap_min, int gap_max, int start_min = 2, int start_max = -1, double share = 1.0) {
  BouncingShapesOptions o;
  o.squares = false;
  o.colors = "random";
  o.memory = "blackout";
  o.gap_min = gap_min;
  o.gap_max = gap_max;
  o.gap_start_min = start_min;
  o.gap_start_max = start_max;
  o.gap_share = share;
  return o;
}

// The hidden frames of clip i: those whose every object is hidden.
std::vector<int64_t> hidden_frames(const Clips& c, int64_t i) {
  std::vector<int64_t> out;
  for (int64_t t = 0; t < c.length; ++t) {
    bool all = true;
    for (int64_t k = 0; k < c.objects; ++k) all = all && c.visible[(i * c.length + t) * c.objects + k] == 0;
    if (all) out.push_back(t);
  }
  return out;
}

TEST(MemoryData, BlackoutDrawsNoObjectPixelAndThePhysicsGoesOn) {
  const BouncingShapesOptions o = blackout(3, 5);
  const Clips c = generate_bouncing_shapes(o, 40, 12, 3);
  BouncingShapesOptions plain;
  plain.squares = false;
  const Clips p = generate_bouncing_shapes(plain, 40, 12, 3);
  // The extra draws come after the shapes are placed: the same seed moves the same shapes.
  EXPECT_EQ(c.states, p.states) << "the states do not depend on the blackout";
  ASSERT_EQ(c.visible.size(), static_cast<size_t>(c.count * c.length * c.objects));
  int64_t gaps = 0;
  for (int64_t i = 0; i < c.count; ++i) {
    const std::vector<int64_t> hidden = hidden_frames(c, i);
    for (int64_t t = 0; t < c.length; ++t) {
      const bool in_gap = std::find(hidden.begin(), hidden.end(), t) != hidden.end();
      const uint8_t* f = c.frame(i, t);
      const bool grey = std::all_of(f, f + c.frame_bytes(), [&](uint8_t v) { return v == o.hidden_value; });
      EXPECT_EQ(grey, in_gap) << "clip " << i << " frame " << t << ": a hidden frame is uniform grey, a shown one is not";
      for (int64_t k = 0; k < c.objects; ++k)
        EXPECT_EQ(c.visible[(i * c.length + t) * c.objects + k], in_gap ? 0 : 1) << "a blackout hides every object";
    }
    if (hidden.empty()) continue;
    ++gaps;
    // One contiguous gap, of a length the options allow, starting where they allow, the last frame shown.
    EXPECT_EQ(hidden.back() - hidden.front() + 1, static_cast<int64_t>(hidden.size())) << "clip " << i;
    EXPECT_GE(static_cast<int>(hidden.size()), std::min<int64_t>(o.gap_min, c.length - 1 - hidden.front()));
    EXPECT_LE(static_cast<int>(hidden.size()), o.gap_max);
    EXPECT_GE(hidden.front(), o.gap_start_min);
    EXPECT_LT(hidden.back(), c.length - 1);
  }
  EXPECT_EQ(gaps, c.count) << "gap_share 1: every clip has its gap";
}

TEST(MemoryData, GapsAppearWhereTheOptionsSay) {
  // Evaluation clips: a gap of exactly G frames right after a context of 4.
  for (int g : {4, 8, 16}) {
    const Clips c = generate_bouncing_shapes(blackout(g, g, 4, 4), 6, 4 + g + 8, 9);
    for (int64_t i = 0; i < c.count; ++i) {
      const std::vector<int64_t> hidden = hidden_frames(c, i);
      ASSERT_EQ(static_cast<int>(hidden.size()), g) << "G = " << g;
      EXPECT_EQ(hidden.front(), 4);
      EXPECT_EQ(hidden.back(), 4 + g - 1);
    }
  }
  // Training clips: gaps shorter than the training length, in about gap_share of the clips.
  const int64_t t_train = 8;
  const Clips train = generate_bouncing_shapes(blackout(1, 5, 1, -1, 0.5), 400, t_train, 11);
  int64_t with_gap = 0;
  for (int64_t i = 0; i < train.count; ++i) {
    const std::vector<int64_t> hidden = hidden_frames(train, i);
    if (hidden.empty()) continue;
    ++with_gap;
    EXPECT_LT(static_cast<int64_t>(hidden.size()), t_train) << "a training gap is shorter than the training length";
    EXPECT_GE(hidden.front(), 1) << "some frame before the gap is shown";
    EXPECT_LT(hidden.back(), t_train - 1) << "some frame after it too";
  }
  EXPECT_NEAR(static_cast<double>(with_gap) / train.count, 0.5, 0.1);  // 400 Bernoulli(½): sd 0.025
  // No gap at all with gap_share 0.
  const Clips none = generate_bouncing_shapes(blackout(2, 3, 1, -1, 0.0), 20, t_train, 11);
  for (int64_t i = 0; i < none.count; ++i) EXPECT_TRUE(hidden_frames(none, i).empty());
}

TEST(MemoryData, RandomColoursAreDistinctPaletteColoursDrawnEvenly) {
  BouncingShapesOptions o;
  o.objects = 3;
  o.colors = "random";
  const Clips c = generate_bouncing_shapes(o, 600, 2, 5);
  EXPECT_TRUE(c.visible.empty()) << "no memory option, nothing hidden";
  std::vector<int64_t> seen(kShapePaletteSize, 0);
  for (int64_t i = 0; i < c.count; ++i) {
    std::set<int> in_clip;
    for (int64_t k = 0; k < c.objects; ++k) {
      const uint8_t* rgb = c.colors.data() + (i * c.objects + k) * 3;
      int found = -1;
      for (int p = 0; p < kShapePaletteSize; ++p)
        if (rgb[0] == kShapePalette[p][0] && rgb[1] == kShapePalette[p][1] && rgb[2] == kShapePalette[p][2]) found = p;
      ASSERT_GE(found, 0) << "a palette colour";
      in_clip.insert(found);
      ++seen[found];
    }
    EXPECT_EQ(in_clip.size(), 3u) << "distinct within a clip";
  }
  // 1800 draws over 6 colours: 300 each expected; chi-square with 5 dof below its 0.999 quantile.
  double chi = 0;
  for (int64_t n : seen) chi += (n - 300.0) * (n - 300.0) / 300.0;
  EXPECT_LT(chi, 20.5);
  EXPECT_NE(c.generator_json.find("\"colors\":\"random\""), std::string::npos) << c.generator_json;
}

TEST(MemoryData, DefaultOptionsKeepTheOldGeneratorRecord) {
  const Clips c = generate_bouncing_shapes(BouncingShapesOptions{}, 2, 3, 1);
  for (const char* key : {"colors", "blackout", "occluder"})
    EXPECT_EQ(c.generator_json.find(key), std::string::npos) << key << " in " << c.generator_json;
  EXPECT_TRUE(c.visible.empty());
}

TEST(MemoryData, BehindTheOccluderTheStatesFollowThePhysics) {
  BouncingShapesOptions o;
  o.squares = false;
  o.memory = "occluder";
  o.occluder_width = 10;
  const Clips c = generate_bouncing_shapes(o, 30, 24, 4);
  BouncingShapesOptions plain;
  plain.squares = false;
  EXPECT_EQ(c.states, generate_bouncing_shapes(plain, 30, 24, 4).states) << "the bar changes no state";
  const int x0 = (o.size - o.occluder_width) / 2, x1 = x0 + o.occluder_width;
  int64_t hidden = 0;
  for (int64_t i = 0; i < c.count; ++i)
    for (int64_t t = 0; t < c.length; ++t) {
      const uint8_t* f = c.frame(i, t);
      for (int y = 0; y < o.size; ++y)
        for (int x = x0; x < x1; ++x)
          ASSERT_EQ(f[(y * o.size + x) * 3 + 1], o.hidden_value) << "the bar is in front of everything";
      for (int64_t k = 0; k < c.objects; ++k) {
        const float* s = c.states.data() + ((i * c.length + t) * c.objects + k) * kStateDim;
        const bool clear = s[0] + s[4] <= x0 || s[0] - s[4] >= x1;
        EXPECT_EQ(c.visible[(i * c.length + t) * c.objects + k], clear ? 1 : 0);
        hidden += clear ? 0 : 1;
        if (t == 0) continue;
        // Constant speed through the hidden stretch as everywhere (|v| is kept by every bounce).
        const float* p = s - c.objects * kStateDim;
        EXPECT_NEAR(std::hypot(s[2], s[3]), std::hypot(p[2], p[3]), 1e-5);
      }
    }
  EXPECT_GT(hidden, 0) << "some object passes behind the bar";
}

TEST(MemoryData, OptionsThatCannotWorkAreNamed) {
  BouncingShapesOptions o = blackout(3, 2);
  expect_error([&] { validate(o); }, "gap_min");
  o = blackout(2, 3);
  o.hidden_value = 100;
  expect_error([&] { validate(o); }, "hidden_value");
  o = blackout(2, 3);
  o.gap_share = 1.5;
  expect_error([&] { validate(o); }, "gap_share");
  o = BouncingShapesOptions{};
  o.colors = "rainbow";
  expect_error([&] { validate(o); }, "colors");
  o = BouncingShapesOptions{};
  o.memory = "occluder";
  expect_error([&] { validate(o); }, "occluder_width");
}

TEST(MemoryData, DatasetFilesCarryVisibility) {
  const Clips c = generate_bouncing_shapes(blackout(2, 3), 3, 8, 2);
  const std::string path = temp_path("memory.h5");
  write_dataset_file(path, c);
  const Clips back = read_dataset_file(path);
  EXPECT_EQ(back.visible, c.visible);
  EXPECT_EQ(back.states, c.states);
  Clips bad = c;
  bad.visible.pop_back();
  expect_error([&] { write_dataset_file(temp_path("bad.h5"), bad); }, "visible holds");
  std::remove(path.c_str());
}

}  // namespace
}  // namespace dfb

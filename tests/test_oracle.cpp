// Tests of the bouncing_shapes oracle metrics (metrics/oracle.h): true frames are valid
// with small errors and no jumps; blur, noise, an erased shape, a moved shape and a wrong
// speed are caught; bad input is refused with a clear dfb::Error.
//
// Frames where two objects overlap or nearly touch (their bounding boxes less than 2 px
// apart on both axes, from the true states) are left out of the checks on true frames:
// a shape drawn over another loses area there, which the oracle rightly counts as wrong.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "base/error.h"
#include "datasets/bouncing_shapes.h"
#include "metrics/oracle.h"

namespace dfb {
namespace {

const float* state_of(const Clips& c, int64_t i, int64_t t) {
  return c.states.data() + (i * c.length + t) * c.objects * kStateDim;
}

// No two objects of frame (i, t) overlap or come within 2 px of each other.
bool apart(const Clips& c, int64_t i, int64_t t) {
  const float* s = state_of(c, i, t);
  for (int64_t a = 0; a < c.objects; ++a)
    for (int64_t b = a + 1; b < c.objects; ++b) {
      const float* p = s + a * kStateDim;
      const float* q = s + b * kStateDim;
      const float gap = p[4] + q[4] + 2;
      if (std::fabs(p[0] - q[0]) <= gap && std::fabs(p[1] - q[1]) <= gap) return false;
    }
  return true;
}

Clips shapes(int size, bool squares, int objects, int64_t count, int64_t length, uint64_t seed) {
  BouncingShapesOptions o;
  o.size = size;
  o.squares = squares;
  o.objects = objects;
  return generate_bouncing_shapes(o, count, length, seed);
}

// Share of valid frames of `video` (judged against `truth`) among the frames where the true objects are apart.
double valid_share(const Clips& video, const Clips& truth, const OracleOptions& o = {}) {
  const auto all = oracle_clips(video, truth, o);
  double valid = 0, frames = 0;
  for (int64_t i = 0; i < truth.count; ++i)
    for (int64_t t = 0; t < truth.length; ++t)
      if (apart(truth, i, t)) valid += all[i][t].valid, ++frames;
  return valid / frames;
}

// Paints black every pixel of frame (i, t) that has exactly object k's colour.
void erase_object(Clips& c, int64_t i, int64_t t, int64_t k) {
  uint8_t* frame = c.frames.data() + (i * c.length + t) * c.frame_bytes();
  const uint8_t* color = c.colors.data() + (i * c.objects + k) * 3;
  for (int64_t p = 0; p < c.height * c.width; ++p)
    if (std::equal(color, color + 3, frame + 3 * p)) std::fill(frame + 3 * p, frame + 3 * p + 3, 0);
}

// A clip (index, frame) in the middle of `c` with all objects apart in frames t−1, t and t+1.
std::pair<int64_t, int64_t> quiet_frame(const Clips& c) {
  for (int64_t i = 0; i < c.count; ++i)
    for (int64_t t = c.length / 2; t + 1 < c.length; ++t)
      if (apart(c, i, t - 1) && apart(c, i, t) && apart(c, i, t + 1)) return {i, t};
  ADD_FAILURE() << "no clip with a quiet frame";
  return {0, 1};
}

TEST(OracleMetrics, TrueFramesAreValidWithSmallErrorsAndNoJumps) {
  const OracleOptions o;
  for (int size : {32, 64})
    for (bool squares : {false, true})
      for (int objects : {2, 3}) {
        const Clips c = shapes(size, squares, objects, 40, 24, 21);
        const auto all = oracle_clips(c, c);
        int64_t frames = 0, steps = 0;
        double speed_sum = 0;
        for (int64_t i = 0; i < c.count; ++i)
          for (int64_t t = 0; t < c.length; ++t) {
            if (!apart(c, i, t)) continue;
            ++frames;
            const OracleFrame& f = all[i][t];
            SCOPED_TRACE("size " + std::to_string(size) + " squares " + std::to_string(squares) + " objects " +
                         std::to_string(objects) + " clip " + std::to_string(i) + " t " + std::to_string(t));
            EXPECT_EQ(f.valid, 1.0);
            EXPECT_EQ(f.count_correct, 1.0);
            EXPECT_LE(f.radius_error, 0.5);  // a square's side is 2r rounded to whole pixels
            EXPECT_LE(f.radius_error, o.radius_tolerance);
            EXPECT_EQ(f.color_error, 0.0);   // hard edges: every pixel has the true colour
            EXPECT_LE(f.position_error, 0.75);
            if (t == 0) {
              EXPECT_TRUE(std::isnan(f.jump));
              EXPECT_TRUE(std::isnan(f.speed_error));
            } else if (apart(c, i, t - 1)) {
              EXPECT_EQ(f.jump, 0.0);
              if (!std::isnan(f.speed_error)) {
                EXPECT_LE(f.speed_error, 1.25);
                speed_sum += f.speed_error, ++steps;
              }
            }
          }
        EXPECT_GT(frames, 150);
        ASSERT_GT(steps, 100);
        EXPECT_LT(speed_sum / steps, 0.25) << size << " " << squares << " " << objects;
      }
}

TEST(OracleMetrics, ValidityFallsAsFramesAreBlurred) {
  const Clips c = shapes(64, true, 2, 30, 16, 5);
  const int h = static_cast<int>(c.height), w = static_cast<int>(c.width);
  std::vector<double> shares;
  for (double sigma : {0.3, 0.7, 1.0, 1.5}) {
    Clips blurred = c;
    for (int64_t n = 0; n < c.count * c.length; ++n) {
      const cv::Mat src(h, w, CV_8UC3, const_cast<uint8_t*>(c.frames.data()) + n * c.frame_bytes());
      cv::Mat dst(h, w, CV_8UC3, blurred.frames.data() + n * c.frame_bytes());
      cv::GaussianBlur(src, dst, cv::Size(0, 0), sigma);
    }
    shares.push_back(valid_share(blurred, c));
  }
  for (size_t k = 1; k < shares.size(); ++k) EXPECT_LE(shares[k], shares[k - 1]) << "sigma step " << k;
  EXPECT_EQ(shares.front(), 1.0);
  EXPECT_LT(shares[2], 0.2);  // sigma 1: the soft edges pull the mean colour ~40 away
  EXPECT_EQ(shares.back(), 0.0);
}

TEST(OracleMetrics, ValidityFallsWithAdditiveNoise) {
  const Clips c = shapes(64, true, 2, 30, 16, 6);
  std::vector<double> shares;
  for (double sigma : {10.0, 45.0, 70.0, 90.0}) {
    Clips noised = c;
    std::mt19937 gen(17);
    std::normal_distribution<double> noise(0, sigma);
    for (uint8_t& v : noised.frames) v = static_cast<uint8_t>(std::clamp(std::lround(v + noise(gen)), 0L, 255L));
    shares.push_back(valid_share(noised, c));
  }
  for (size_t k = 1; k < shares.size(); ++k) EXPECT_LE(shares[k], shares[k - 1]) << "sigma step " << k;
  EXPECT_EQ(shares.front(), 1.0);
  EXPECT_LT(shares.back(), 0.1);  // specks of every colour: the count is wrong
}

TEST(OracleMetrics, AnErasedShapeIsCountedWrongAndVanishesAndReappears) {
  const Clips c = shapes(32, true, 2, 20, 16, 8);
  const auto [i, t] = quiet_frame(c);
  Clips erased = c;
  erase_object(erased, i, t, 1);
  const std::vector<OracleFrame> o = oracle_clips(erased, c)[i];
  EXPECT_EQ(o[t].count_correct, 0.0);
  EXPECT_EQ(o[t].valid, 0.0);
  EXPECT_EQ(o[t].jump, 1.0);      // vanished
  EXPECT_EQ(o[t + 1].jump, 1.0);  // appeared again
  EXPECT_EQ(o[t - 1].valid, 1.0);
  EXPECT_EQ(o[t + 1].valid, 1.0);
  EXPECT_FALSE(std::isnan(o[t].radius_error));  // the other object is still measured
}

TEST(OracleMetrics, AShapeMovedFarIsAJumpButStaysValid) {
  const Clips c = shapes(64, false, 2, 20, 16, 4);
  const auto [i, t] = quiet_frame(c);
  // Move object 0 by 24 px in x (towards the far side), drawn where nothing else is.
  const float* s = state_of(c, i, t);
  const int dx = s[0] < 32 ? 24 : -24;
  Clips moved = c;
  uint8_t* frame = moved.frames.data() + (i * moved.length + t) * moved.frame_bytes();
  const std::vector<uint8_t> before(frame, frame + moved.frame_bytes());
  erase_object(moved, i, t, 0);
  const uint8_t* color = c.colors.data() + i * c.objects * 3;
  for (int64_t y = 0; y < moved.height; ++y)
    for (int64_t x = 0; x < moved.width; ++x)
      if (std::equal(color, color + 3, before.data() + (y * moved.width + x) * 3))
        std::copy(color, color + 3, frame + (y * moved.width + x + dx) * 3);
  // Only meaningful when the moved disc lands clear of object 1.
  const float* other = s + kStateDim;
  ASSERT_GT(std::hypot(s[0] + dx - other[0], s[1] - other[1]), s[4] + other[4] + 2);

  const std::vector<OracleFrame> truth = oracle_clips(c, c)[i], o = oracle_clips(moved, c)[i];
  EXPECT_EQ(truth[t].jump, 0.0);
  EXPECT_EQ(o[t].jump, 1.0);      // there
  EXPECT_EQ(o[t + 1].jump, 1.0);  // and back
  EXPECT_EQ(o[t].valid, 1.0);     // validity does not ask for the true position
  EXPECT_EQ(o[t].count_correct, 1.0);
  EXPECT_GT(o[t].position_error, truth[t].position_error + 5);
}

TEST(OracleMetrics, SpeedErrorMeasuresAWrongSpeed) {
  // Same seed, so the same start, radii and directions; the video moves twice as fast.
  BouncingShapesOptions slow;
  slow.size = 64;
  slow.speed_min = slow.speed_max = 1.0;
  BouncingShapesOptions fast = slow;
  fast.speed_min = fast.speed_max = 2.0;
  const Clips truth = generate_bouncing_shapes(slow, 20, 16, 3), video = generate_bouncing_shapes(fast, 20, 16, 3);
  const auto on_truth = oracle_clips(truth, truth), on_video = oracle_clips(video, truth);
  double truth_sum = 0, video_sum = 0;
  int64_t n = 0;
  for (int64_t i = 0; i < truth.count; ++i)
    for (int64_t t = 1; t < truth.length; ++t) {
      const double a = on_truth[i][t].speed_error, b = on_video[i][t].speed_error;
      if (std::isnan(a) || std::isnan(b) || !apart(truth, i, t) || !apart(truth, i, t - 1) ||
          !apart(video, i, t) || !apart(video, i, t - 1))
        continue;
      truth_sum += a, video_sum += b, ++n;
      EXPECT_EQ(on_video[i][t].jump, 0.0);  // 2 px/frame is within 2·|v| + 2
    }
  ASSERT_GT(n, 100);
  EXPECT_LT(truth_sum / n, 0.25);
  EXPECT_NEAR(video_sum / n, 1.0, 0.25);  // |step| = 2, |v_true| = 1
}

TEST(OracleMetrics, ObjectsSharingAColourAreTrackedApart) {
  // Object 1 repainted in object 0's colour: the pair is matched by nearest position.
  Clips c = shapes(64, false, 2, 10, 16, 12);
  for (int64_t i = 0; i < c.count; ++i) {
    const uint8_t* red = c.colors.data() + i * 2 * 3;
    uint8_t* other = c.colors.data() + (i * 2 + 1) * 3;
    const std::vector<uint8_t> old(other, other + 3);
    for (int64_t t = 0; t < c.length; ++t) {
      uint8_t* frame = c.frames.data() + (i * c.length + t) * c.frame_bytes();
      for (int64_t p = 0; p < c.height * c.width; ++p)
        if (std::equal(old.begin(), old.end(), frame + 3 * p)) std::copy(red, red + 3, frame + 3 * p);
    }
    std::copy(red, red + 3, other);
  }
  const auto all = oracle_clips(c, c);
  int64_t frames = 0;
  for (int64_t i = 0; i < c.count; ++i)
    for (int64_t t = 0; t < c.length; ++t) {
      if (!apart(c, i, t)) continue;
      ++frames;
      EXPECT_EQ(all[i][t].valid, 1.0) << i << " " << t;
      EXPECT_LT(all[i][t].position_error, 0.5) << i << " " << t;
      if (t > 0 && apart(c, i, t - 1)) {
        EXPECT_EQ(all[i][t].jump, 0.0) << i << " " << t;
      }
    }
  EXPECT_GT(frames, 50);
}

TEST(OracleMetrics, SpecksBelowMinAreaAreIgnoredLargerBlobsAreCounted) {
  const Clips c = shapes(64, false, 2, 10, 8, 2);
  const auto [i, t] = quiet_frame(c);
  const float* s = state_of(c, i, t);
  // A free corner for the blob: the one farthest from both objects.
  int best_x = 0, best_y = 0;
  double best = -1;
  for (int cy : {2, 56})
    for (int cx : {2, 56}) {
      const double d = std::min(std::hypot(cx + 3 - s[0], cy + 3 - s[1]), std::hypot(cx + 3 - s[6], cy + 3 - s[7]));
      if (d > best) best = d, best_x = cx, best_y = cy;
    }
  ASSERT_GT(best, 12);
  auto paint = [&](Clips& v, int side) {
    uint8_t* frame = v.frames.data() + (i * v.length + t) * v.frame_bytes();
    for (int y = best_y; y < best_y + side; ++y)
      for (int x = best_x; x < best_x + side; ++x) std::copy(kShapePalette[5].begin(), kShapePalette[5].end(), frame + (y * 64 + x) * 3);
  };
  Clips speck = c, blob = c;
  paint(speck, 2);  // 4 px < min_area 6
  paint(blob, 3);   // 9 px
  EXPECT_EQ(oracle_clips(speck, c)[i][t].valid, 1.0);
  EXPECT_EQ(oracle_clips(blob, c)[i][t].count_correct, 0.0);
  EXPECT_EQ(oracle_clips(blob, c)[i][t].valid, 0.0);
}

// The message of the dfb::Error `f` throws ("" if none).
template <typename F>
std::string error_of(F f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(OracleMetrics, BadInputIsRefusedClearly) {
  const Clips c = shapes(32, true, 2, 2, 4, 1);
  auto contains = [](const std::string& message, const std::string& part) {
    return message.find(part) != std::string::npos;
  };

  Clips grey = c;
  grey.channels = 1;
  grey.frames.resize(static_cast<size_t>(grey.count * grey.clip_bytes()));
  EXPECT_TRUE(contains(error_of([&] { oracle_clips(grey, c); }), "3 channels")) << error_of([&] { oracle_clips(grey, c); });

  Clips no_states = c;
  no_states.objects = 0, no_states.states.clear(), no_states.colors.clear();
  EXPECT_TRUE(contains(error_of([&] { oracle_clips(c, no_states); }), "no object states"));
  EXPECT_TRUE(contains(error_of([&] { oracle_clip(c.clip(0), c.length, 32, 32, nullptr, nullptr, 0); }),
                       "no true object states"));
  EXPECT_TRUE(contains(error_of([&] { oracle_clip(c.clip(0), c.length, 32, 32, c.states.data(), c.colors.data(), 0); }),
                       "objects = 0"));

  Clips short_states = c;
  short_states.states.pop_back();
  EXPECT_TRUE(contains(error_of([&] { oracle_clips(c, short_states); }), "state values"));

  Clips shorter = c;
  shorter.length = 3, shorter.frames.resize(static_cast<size_t>(shorter.count * shorter.clip_bytes()));
  EXPECT_TRUE(contains(error_of([&] { oracle_clips(shorter, c); }), "differ in shape"));

  Clips black = c;
  std::fill(black.colors.begin(), black.colors.begin() + 3, 0);
  EXPECT_TRUE(contains(error_of([&] { oracle_clips(c, black); }), "palette colour"));

  Clips nan_state = c;
  nan_state.states[4] = std::nanf("");
  EXPECT_TRUE(contains(error_of([&] { oracle_clips(c, nan_state); }), "not finite"));

  OracleOptions bad;
  bad.radius_tolerance = -1;
  EXPECT_TRUE(contains(error_of([&] { oracle_clips(c, c, bad); }), "oracle.radius_tolerance"));
  bad = OracleOptions{};
  bad.detect.min_area = 0;
  EXPECT_TRUE(contains(error_of([&] { oracle_clips(c, c, bad); }), "oracle.detect.min_area"));
}

}  // namespace
}  // namespace dfb

// Frame metrics, pixel statistics and the bouncing_shapes oracle against closed forms,
// a direct-loop SSIM, scikit-image's SSIM and PSNR (scripts/ssim_reference.py), and
// degraded true frames.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <vector>

#include "core/error.h"
#include "datasets/bouncing_shapes.h"
#include "metrics/frame_metrics.h"
#include "metrics/oracle.h"
#include "metrics/pixel_stats.h"

namespace dfb {
namespace {

// The images scripts/ssim_reference.py builds, by the same integer formulas.
std::vector<uint8_t> pattern(int h, int w, int c, int k) {
  std::vector<uint8_t> v(static_cast<size_t>(h) * w * c);
  for (int i = 0; i < h; ++i)
    for (int j = 0; j < w; ++j)
      for (int ch = 0; ch < c; ++ch) v[(static_cast<size_t>(i) * w + j) * c + ch] = (i * 37 + j * 11 + ch * 71 + k) % 256;
  return v;
}
std::vector<uint8_t> gradient(int h, int w, int c) {
  std::vector<uint8_t> v(static_cast<size_t>(h) * w * c);
  for (int i = 0; i < h; ++i)
    for (int j = 0; j < w; ++j)
      for (int ch = 0; ch < c; ++ch) v[(static_cast<size_t>(i) * w + j) * c + ch] = (4 * i + 3 * j + 20 * ch) % 200 + 20;
  return v;
}
// gradient plus a deterministic ±k "noise" and a shift of 9.
std::vector<uint8_t> disturbed(int h, int w, int c) {
  std::vector<uint8_t> v = gradient(h, w, c);
  for (size_t n = 0; n < v.size(); ++n) v[n] = static_cast<uint8_t>(v[n] + 9 + static_cast<int>((n * 7919) % 23) - 11);
  return v;
}

// SSIM by its definition, summing each 11×11 window explicitly (long double): another code path.
double ssim_direct(const std::vector<double>& a, const std::vector<double>& b, int h, int w, int c) {
  long double kernel[11], norm = 0;
  for (int i = 0; i < 11; ++i) norm += kernel[i] = std::exp(-(i - 5) * (i - 5) / (2 * 1.5L * 1.5L));
  long double total = 0;
  for (int ch = 0; ch < c; ++ch)
    for (int y = 5; y < h - 5; ++y)
      for (int x = 5; x < w - 5; ++x) {
        long double mx = 0, my = 0, xx = 0, yy = 0, xy = 0;
        for (int dy = -5; dy <= 5; ++dy)
          for (int dx = -5; dx <= 5; ++dx) {
            const long double g = kernel[dy + 5] * kernel[dx + 5] / (norm * norm);
            const size_t k = (static_cast<size_t>(y + dy) * w + x + dx) * c + ch;
            mx += g * a[k], my += g * b[k], xx += g * a[k] * a[k], yy += g * b[k] * b[k], xy += g * a[k] * b[k];
          }
        const long double c1 = 1e-4L, c2 = 9e-4L;
        total += (2 * mx * my + c1) * (2 * (xy - mx * my) + c2) /
                 ((mx * mx + my * my + c1) * (xx - mx * mx + yy - my * my + c2));
      }
  return static_cast<double>(total / ((h - 10) * (w - 10) * c));
}

std::vector<double> scaled(const std::vector<uint8_t>& v) {
  std::vector<double> d(v.size());
  for (size_t i = 0; i < v.size(); ++i) d[i] = v[i] / 255.0;
  return d;
}

TEST(FrameMetrics, SsimOfAFrameWithItselfIsOne) {
  const std::vector<uint8_t> a = pattern(32, 32, 3, 5);
  EXPECT_NEAR(frame_ssim(a.data(), a.data(), 32, 32, 3), 1.0, 1e-12);
  const std::vector<double> d = scaled(a);
  EXPECT_NEAR(ssim_f64(d.data(), d.data(), 32, 32, 3), 1.0, 1e-12);
}

TEST(FrameMetrics, SsimOfAConstantShiftMatchesTheFormula) {
  // x ≡ c, y ≡ c + δ: σ terms vanish, SSIM = (2c(c+δ) + C₁) / (c² + (c+δ)² + C₁).
  const double c = 0.3, delta = 0.1, c1 = 1e-4;
  std::vector<double> x(20 * 24 * 3, c), y(20 * 24 * 3, c + delta);
  EXPECT_NEAR(ssim_f64(x.data(), y.data(), 20, 24, 3), (2 * c * (c + delta) + c1) / (c * c + (c + delta) * (c + delta) + c1),
              1e-12);
  // A non-constant image shifted by δ (no clipping): the direct-loop definition agrees.
  const std::vector<double> g = scaled(gradient(24, 27, 3));
  std::vector<double> shifted = g;
  for (double& v : shifted) v += delta;
  EXPECT_NEAR(ssim_f64(g.data(), shifted.data(), 24, 27, 3), ssim_direct(g, shifted, 24, 27, 3), 1e-9);
  const std::vector<double> p = scaled(pattern(17, 23, 1, 3)), q = scaled(disturbed(17, 23, 1));
  EXPECT_NEAR(ssim_f64(p.data(), q.data(), 17, 23, 1), ssim_direct(p, q, 17, 23, 1), 1e-9);
}

// Golden values from scikit-image (scripts/ssim_reference.py, the images above):
// structural_similarity(gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
// data_range=1, channel_axis=-1) and peak_signal_noise_ratio(data_range=1) on the images / 255.
struct Golden {
  const char* name;
  int h, w, c;
  double ssim, psnr;
};

TEST(FrameMetrics, SsimAndPsnrAgreeWithScikitImage) {
  // scikit-image 0.19.3 (Debian 12's python3-skimage), printed by /usr/bin/python3 scripts/ssim_reference.py
  const Golden cases[] = {{"pattern", 32, 32, 3, 0.2143454470, 8.7878395405},
                          {"pattern", 64, 64, 1, 0.2149636358, 8.7878395405},
                          {"gradient", 17, 23, 3, 0.8714080057, 27.1617034786},
                          {"gradient", 64, 64, 3, 0.8312601076, 27.1620060250}};
  for (const Golden& g : cases) {
    std::vector<uint8_t> a, b;
    if (std::string(g.name) == "pattern") a = pattern(g.h, g.w, g.c, 0), b = pattern(g.h, g.w, g.c, 40);
    if (std::string(g.name) == "gradient") a = gradient(g.h, g.w, g.c), b = disturbed(g.h, g.w, g.c);
    EXPECT_NEAR(frame_ssim(a.data(), b.data(), g.h, g.w, g.c), g.ssim, 1e-4) << g.name << " " << g.h << "x" << g.w;
    EXPECT_NEAR(psnr_from_mse(frame_mse(a.data(), b.data(), g.h, g.w, g.c)), g.psnr, 1e-4) << g.name;
  }
}

TEST(FrameMetrics, PsnrAndMseOfKnownDifferences) {
  std::vector<uint8_t> a(16 * 16 * 3, 100), b(16 * 16 * 3, 107);
  EXPECT_DOUBLE_EQ(frame_mse(a.data(), b.data(), 16, 16, 3), (7 / 255.0) * (7 / 255.0));
  EXPECT_NEAR(psnr_from_mse(frame_mse(a.data(), b.data(), 16, 16, 3)), 20 * std::log10(255.0 / 7), 1e-12);
  EXPECT_EQ(frame_mse(a.data(), a.data(), 16, 16, 3), 0.0);
  EXPECT_EQ(frame_mse(a.data(), b.data(), 16, 16, 3), frame_mse(b.data(), a.data(), 16, 16, 3));
  EXPECT_EQ(psnr_from_mse(0), std::numeric_limits<double>::infinity());
  EXPECT_NEAR(psnr_from_mse(0.01), 20.0, 1e-12);
}

TEST(FrameMetrics, BadFramesAreClearErrors) {
  std::vector<uint8_t> a(10 * 10 * 3, 0);
  try {
    frame_ssim(a.data(), a.data(), 10, 10, 3);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("at least 11x11, got 10x10"), std::string::npos) << e.what();
  }
  EXPECT_THROW(frame_mse(a.data(), a.data(), 10, 10, 2), Error);
  EXPECT_THROW(frame_sharpness(a.data(), 2, 10, 3), Error);
  EXPECT_THROW(histogram_distance({0.5, 0.5}, {1.0}), Error);
}

TEST(PixelStats, ClosedForms) {
  std::vector<uint8_t> flat(8 * 8 * 3, 51);
  EXPECT_NEAR(frame_mean(flat.data(), 8, 8, 3), 0.2, 1e-12);
  EXPECT_NEAR(frame_contrast(flat.data(), 8, 8, 3), 0.0, 1e-12);
  EXPECT_NEAR(frame_sharpness(flat.data(), 8, 8, 3), 0.0, 1e-12);
  // A 0/1 checkerboard: the Laplacian is ∓4 everywhere inside, so its variance is 16 (mean 0 on an even interior).
  std::vector<uint8_t> board(8 * 8);
  for (int i = 0; i < 8; ++i)
    for (int j = 0; j < 8; ++j) board[i * 8 + j] = (i + j) % 2 ? 255 : 0;
  EXPECT_NEAR(frame_sharpness(board.data(), 8, 8, 1), 16.0, 1e-12);
  EXPECT_NEAR(frame_contrast(board.data(), 8, 8, 1), 0.5, 1e-12);
  std::vector<uint8_t> black(8 * 8 * 3, 0), white(8 * 8 * 3, 255);
  EXPECT_EQ(frame_flicker(black.data(), black.data(), 8, 8, 3), 0.0);
  EXPECT_EQ(frame_flicker(black.data(), white.data(), 8, 8, 3), 1.0);
  const std::vector<double> hb = frame_histogram(black.data(), 8, 8, 3), hw = frame_histogram(white.data(), 8, 8, 3);
  double sum = 0;
  for (double v : frame_histogram(board.data(), 8, 8, 1)) sum += v;
  EXPECT_NEAR(sum, 1.0, 1e-12);
  EXPECT_EQ(hb[0], 1.0);
  EXPECT_EQ(hw[31], 1.0);
  EXPECT_EQ(histogram_distance(hb, hb), 0.0);
  EXPECT_EQ(histogram_distance(hb, hw), 1.0);
}

// True clips of two discs, and the frames where the objects are apart (no occlusion).
struct TrueClips {
  Clips clips;
  std::vector<std::pair<int64_t, int64_t>> apart;  // (clip, t)
};
TrueClips true_clips(int size, bool squares) {
  BouncingShapesOptions o;
  o.size = size;
  o.squares = squares;
  TrueClips t{generate_bouncing_shapes(o, 12, 24, 9), {}};
  for (int64_t i = 0; i < t.clips.count; ++i)
    for (int64_t f = 0; f < t.clips.length; ++f) {
      const float* s = t.clips.states.data() + (i * t.clips.length + f) * 2 * kStateDim;
      if (std::hypot(s[0] - s[6], s[1] - s[7]) > 1.5f * (s[4] + s[10]) + 2) t.apart.emplace_back(i, f);
    }
  return t;
}

std::vector<OracleFrame> oracle_of(const Clips& c, int64_t i) {
  return oracle_clip(c.clip(i), c.length, static_cast<int>(c.height), static_cast<int>(c.width),
                     c.states.data() + i * c.length * c.objects * kStateDim, c.colors.data() + i * c.objects * 3,
                     c.objects);
}

// Share of valid frames among the frames where the objects are apart.
double valid_share(const TrueClips& t, const Clips& frames) {
  double valid = 0;
  for (const auto& [i, f] : t.apart) valid += oracle_of(frames, i)[f].valid;
  return valid / static_cast<double>(t.apart.size());
}

TEST(Oracle, TrueFramesAreAllValid) {
  for (bool squares : {false, true})
    for (int size : {32, 64}) {
      const TrueClips t = true_clips(size, squares);
      ASSERT_GT(t.apart.size(), 100u);
      EXPECT_EQ(valid_share(t, t.clips), 1.0) << size << " squares " << squares;
      for (const auto& [i, f] : t.apart) {
        const OracleFrame o = oracle_of(t.clips, i)[f];
        EXPECT_EQ(o.count_correct, 1.0);
        EXPECT_LT(o.radius_error, 0.3);
        EXPECT_LT(o.position_error, 0.5);
        if (f > 0) EXPECT_EQ(o.jump, 0.0);
      }
    }
}

TEST(Oracle, ValidityFallsAsFramesAreBlurredNoisedOrAShapeIsErased) {
  const TrueClips t = true_clips(32, false);
  // Gaussian blur of growing sigma (OpenCV, per frame): softer edges change the shapes' area and colour.
  std::vector<double> shares;
  for (double sigma : {0.4, 0.7, 1.0, 1.5}) {
    Clips blurred = t.clips;
    const int h = static_cast<int>(t.clips.height), w = static_cast<int>(t.clips.width);
    for (int64_t n = 0; n < t.clips.count * t.clips.length; ++n) {
      const cv::Mat src(h, w, CV_8UC3, const_cast<uint8_t*>(t.clips.frames.data()) + n * h * w * 3);
      cv::Mat dst(h, w, CV_8UC3, blurred.frames.data() + n * h * w * 3);
      cv::GaussianBlur(src, dst, cv::Size(0, 0), sigma);
    }
    shares.push_back(valid_share(t, blurred));
  }
  for (size_t k = 1; k < shares.size(); ++k) EXPECT_LE(shares[k], shares[k - 1]) << k << ": " << shares[k];
  EXPECT_GT(shares.front(), 0.9);
  EXPECT_LT(shares.back(), 0.2);
  // Strong noise breaks shapes apart and adds specks.
  Clips noised = t.clips;
  std::mt19937 gen(3);
  std::normal_distribution<double> n(0, 90);
  for (uint8_t& v : noised.frames) v = static_cast<uint8_t>(std::clamp(std::lround(v + n(gen)), 0L, 255L));
  EXPECT_LT(valid_share(t, noised), 0.5);
  // One shape erased from one frame: that frame is wrong, and the next shows a reappearance.
  const auto [i, f] = t.apart[t.apart.size() / 2];
  Clips erased = t.clips;
  uint8_t* frame = erased.frames.data() + (i * erased.length + f) * erased.frame_bytes();
  const uint8_t* color = erased.colors.data() + i * erased.objects * 3;  // object 0
  for (int64_t p = 0; p < erased.height * erased.width; ++p)
    if (frame[3 * p] == color[0] && frame[3 * p + 1] == color[1] && frame[3 * p + 2] == color[2])
      frame[3 * p] = frame[3 * p + 1] = frame[3 * p + 2] = 0;
  const std::vector<OracleFrame> o = oracle_of(erased, i);
  EXPECT_EQ(o[f].count_correct, 0.0);
  EXPECT_EQ(o[f].valid, 0.0);
  if (f > 0) EXPECT_EQ(o[f].jump, 1.0);  // vanished
  if (f + 1 < erased.length) EXPECT_EQ(o[f + 1].jump, 1.0);  // appeared again
}

TEST(Oracle, AShapeMovedFarIsAJump) {
  const TrueClips t = true_clips(64, false);
  const auto [i, f] = t.apart[t.apart.size() / 3];
  ASSERT_GT(f, 0);
  Clips moved = t.clips;
  uint8_t* frame = moved.frames.data() + (i * moved.length + f) * moved.frame_bytes();
  const int64_t W = moved.width;
  std::vector<uint8_t> copy(frame, frame + moved.frame_bytes());
  // Shift the whole frame by 20 px to the right (wrapping): every shape moves 20 px at once.
  for (int64_t y = 0; y < moved.height; ++y)
    for (int64_t x = 0; x < W; ++x)
      for (int c = 0; c < 3; ++c) frame[(y * W + (x + 20) % W) * 3 + c] = copy[(y * W + x) * 3 + c];
  EXPECT_EQ(oracle_of(moved, i)[f].jump, 1.0);
  EXPECT_EQ(oracle_of(t.clips, i)[f].jump, 0.0);
}

TEST(Oracle, NeedsStatesAndRgbFrames) {
  std::vector<uint8_t> frames(4 * 16 * 16 * 3, 0);
  try {
    oracle_clip(frames.data(), 4, 16, 16, nullptr, nullptr, 0);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no true object states"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace dfb

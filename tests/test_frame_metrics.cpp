// Frame metrics and pixel statistics against closed forms, a direct-loop SSIM, and
// scikit-image's SSIM and PSNR (scripts/ssim_reference.py). The oracle: test_oracle.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "core/error.h"
#include "metrics/frame_metrics.h"
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

}  // namespace
}  // namespace dfb

// Tests of the frame metrics (MSE, PSNR, SSIM) and pixel statistics (docs/design.md §6) against
// closed forms, an independent direct-loop SSIM written here, and golden values from
// scikit-image (scripts/ssim_reference.py).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "base/error.h"
#include "metrics/frame_metrics.h"
#include "metrics/pixel_stats.h"

using dfb::Error;

namespace {

std::vector<uint8_t> random_bytes(int h, int w, int c, uint32_t seed, int lo = 0, int hi = 255) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(lo, hi);
  std::vector<uint8_t> v(static_cast<size_t>(h) * w * c);
  for (uint8_t& x : v) x = static_cast<uint8_t>(dist(rng));
  return v;
}

std::vector<double> random_unit(int h, int w, int c, uint32_t seed, double lo, double hi) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<double> v(static_cast<size_t>(h) * w * c);
  for (double& x : v) x = dist(rng);
  return v;
}

std::vector<double> scaled(const std::vector<uint8_t>& v) {
  std::vector<double> out(v.size());
  for (size_t k = 0; k < v.size(); ++k) out[k] = v[k] / 255.0;
  return out;
}

// Local statistics of the 11×11 Gaussian window (σ = 1.5) at one pixel and channel,
// straight from the definition in long double: weights exp(−(u²+v²)/2σ²) normalised over
// the window, central (two-pass) population moments.
struct WindowStats {
  long double mx, my, vx, vy, cxy;
};

WindowStats window_stats(const std::vector<double>& x, const std::vector<double>& y, int w, int c, int i, int j,
                         int ch) {
  long double weight[11][11], total = 0;
  for (int u = -5; u <= 5; ++u)
    for (int v = -5; v <= 5; ++v) total += weight[u + 5][v + 5] = std::exp(-(u * u + v * v) / (2 * 1.5L * 1.5L));
  auto at = [&](const std::vector<double>& f, int u, int v) {
    return static_cast<long double>(f[(static_cast<size_t>(i + u) * w + (j + v)) * c + ch]);
  };
  WindowStats s{0, 0, 0, 0, 0};
  for (int u = -5; u <= 5; ++u)
    for (int v = -5; v <= 5; ++v) {
      const long double g = weight[u + 5][v + 5] / total;
      s.mx += g * at(x, u, v), s.my += g * at(y, u, v);
    }
  for (int u = -5; u <= 5; ++u)
    for (int v = -5; v <= 5; ++v) {
      const long double g = weight[u + 5][v + 5] / total;
      const long double dx = at(x, u, v) - s.mx, dy = at(y, u, v) - s.my;
      s.vx += g * dx * dx, s.vy += g * dy * dy, s.cxy += g * dx * dy;
    }
  return s;
}

constexpr long double kC1 = 0.0001L, kC2 = 0.0009L;

// SSIM by explicit window sums: mean over the valid pixels and channels.
double ssim_direct(const std::vector<double>& x, const std::vector<double>& y, int h, int w, int c) {
  long double sum = 0;
  int64_t n = 0;
  for (int i = 5; i < h - 5; ++i)
    for (int j = 5; j < w - 5; ++j)
      for (int ch = 0; ch < c; ++ch, ++n) {
        const WindowStats s = window_stats(x, y, w, c, i, j, ch);
        sum += (2 * s.mx * s.my + kC1) * (2 * s.cxy + kC2) / ((s.mx * s.mx + s.my * s.my + kC1) * (s.vx + s.vy + kC2));
      }
  return static_cast<double>(sum / n);
}

// SSIM of x against y = x + δ by the shift formula: μy = μx + δ, σy² = σxy = σx².
double ssim_shift_formula(const std::vector<double>& x, double delta, int h, int w, int c) {
  long double sum = 0;
  int64_t n = 0;
  for (int i = 5; i < h - 5; ++i)
    for (int j = 5; j < w - 5; ++j)
      for (int ch = 0; ch < c; ++ch, ++n) {
        const WindowStats s = window_stats(x, x, w, c, i, j, ch);
        const long double my = s.mx + delta;
        sum += (2 * s.mx * my + kC1) / (s.mx * s.mx + my * my + kC1) * (2 * s.vx + kC2) / (2 * s.vx + kC2);
      }
  return static_cast<double>(sum / n);
}

// The frames of scripts/ssim_reference.py, by the same integer formulas.
std::vector<uint8_t> make_frame(int h, int w, int c, int (*f)(int, int, int, int, int, int), int k = 0) {
  std::vector<uint8_t> v(static_cast<size_t>(h) * w * c);
  for (int i = 0; i < h; ++i)
    for (int j = 0; j < w; ++j)
      for (int ch = 0; ch < c; ++ch)
        v[(static_cast<size_t>(i) * w + j) * c + ch] = static_cast<uint8_t>(f(i, j, ch, h, w, k));
  return v;
}
int pattern(int i, int j, int c, int, int, int k) { return (i * 37 + j * 11 + c * 71 + k) % 256; }
int gradient(int i, int j, int c, int h, int w, int) { return 20 + (i * 150) / (h - 1) + (j * 60) / (w - 1) + c * 10; }
std::vector<uint8_t> shift_noise(const std::vector<uint8_t>& x, int h, int w, int c, int delta) {
  std::vector<uint8_t> out(x.size());
  for (int i = 0; i < h; ++i)
    for (int j = 0; j < w; ++j)
      for (int ch = 0; ch < c; ++ch) {
        const size_t k = (static_cast<size_t>(i) * w + j) * c + ch;
        const int v = x[k] + delta + (i * 13 + j * 7 + ch * 5) % 9 - 4;
        out[k] = static_cast<uint8_t>(std::min(255, std::max(0, v)));
      }
  return out;
}
std::pair<std::vector<uint8_t>, std::vector<uint8_t>> make_pair(const std::string& name, int h, int w, int c) {
  if (name == "pattern_vs_pattern") return {make_frame(h, w, c, pattern, 0), make_frame(h, w, c, pattern, 5)};
  if (name == "gradient_shift_noise") {
    const std::vector<uint8_t> g = make_frame(h, w, c, gradient);
    return {g, shift_noise(g, h, w, c, 12)};
  }
  if (name == "pattern_noise") {
    const std::vector<uint8_t> p = make_frame(h, w, c, pattern, 3);
    return {p, shift_noise(p, h, w, c, 0)};
  }
  if (name == "gradient_vs_pattern") return {make_frame(h, w, c, gradient), make_frame(h, w, c, pattern, 7)};
  throw std::logic_error("unknown case " + name);
}

// Expects `call` to throw dfb::Error whose message contains `needle`.
template <class F>
void expect_error(F call, const std::string& needle) {
  try {
    call();
    ADD_FAILURE() << "no dfb::Error thrown (wanted one mentioning \"" << needle << "\")";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << "message: " << e.what();
  }
}

}  // namespace

TEST(FrameMetrics, SsimOfIdenticalFramesIsOne) {
  const std::vector<uint8_t> a = random_bytes(32, 32, 3, 1);
  EXPECT_NEAR(dfb::frame_ssim(a.data(), a.data(), 32, 32, 3), 1.0, 1e-12);
  const std::vector<double> x = random_unit(19, 26, 1, 2, 0.0, 1.0);
  EXPECT_NEAR(dfb::ssim_f64(x.data(), x.data(), 19, 26, 1), 1.0, 1e-12);
}

TEST(FrameMetrics, SsimOfConstantShiftMatchesClosedForm) {
  const double c = 0.3, delta = 0.15, c1 = 0.0001;
  const std::vector<double> x(20 * 24 * 3, c), y(20 * 24 * 3, c + delta);
  const double expected = (2 * c * (c + delta) + c1) / (c * c + (c + delta) * (c + delta) + c1);
  EXPECT_NEAR(dfb::ssim_f64(x.data(), y.data(), 20, 24, 3), expected, 1e-12);
  EXPECT_NEAR(dfb::ssim_f64(y.data(), x.data(), 20, 24, 3), expected, 1e-12);
}

TEST(FrameMetrics, SsimOfShiftedImageMatchesShiftFormulaAndDirectLoop) {
  const int h = 24, w = 27, c = 3;
  const double delta = 0.15;
  const std::vector<double> x = random_unit(h, w, c, 3, 0.1, 0.8);
  std::vector<double> y(x);
  for (double& v : y) v += delta;
  const double got = dfb::ssim_f64(x.data(), y.data(), h, w, c);
  EXPECT_NEAR(got, ssim_shift_formula(x, delta, h, w, c), 1e-10);
  EXPECT_NEAR(got, ssim_direct(x, y, h, w, c), 1e-10);
  EXPECT_LT(got, 1.0);
  // The same on bytes: x in 26..204, shifted by 38 (no clipping).
  const std::vector<uint8_t> a = random_bytes(h, w, c, 4, 26, 204);
  std::vector<uint8_t> b(a);
  for (uint8_t& v : b) v = static_cast<uint8_t>(v + 38);
  EXPECT_NEAR(dfb::frame_ssim(a.data(), b.data(), h, w, c), ssim_shift_formula(scaled(a), 38 / 255.0, h, w, c), 1e-10);
}

TEST(FrameMetrics, SsimMatchesDirectLoopOnUnrelatedFrames) {
  const std::vector<double> p = random_unit(17, 23, 1, 5, 0, 1), q = random_unit(17, 23, 1, 6, 0, 1);
  EXPECT_NEAR(dfb::ssim_f64(p.data(), q.data(), 17, 23, 1), ssim_direct(p, q, 17, 23, 1), 1e-10);
  const std::vector<uint8_t> a = random_bytes(30, 22, 3, 7), b = random_bytes(30, 22, 3, 8);
  EXPECT_NEAR(dfb::frame_ssim(a.data(), b.data(), 30, 22, 3), ssim_direct(scaled(a), scaled(b), 30, 22, 3), 1e-10);
  // The smallest frame: a single valid pixel.
  const std::vector<double> s = random_unit(11, 11, 3, 9, 0, 1), t = random_unit(11, 11, 3, 10, 0, 1);
  EXPECT_NEAR(dfb::ssim_f64(s.data(), t.data(), 11, 11, 3), ssim_direct(s, t, 11, 11, 3), 1e-10);
}

TEST(FrameMetrics, FrameSsimIsSsimF64OfScaledBytesAndSymmetric) {
  const std::vector<uint8_t> a = random_bytes(40, 33, 3, 11), b = random_bytes(40, 33, 3, 12);
  const std::vector<double> x = scaled(a), y = scaled(b);
  EXPECT_EQ(dfb::frame_ssim(a.data(), b.data(), 40, 33, 3), dfb::ssim_f64(x.data(), y.data(), 40, 33, 3));
  EXPECT_NEAR(dfb::frame_ssim(a.data(), b.data(), 40, 33, 3), dfb::frame_ssim(b.data(), a.data(), 40, 33, 3), 1e-14);
  // Channels are averaged: a 3-channel frame whose channels are three 1-channel frames.
  std::vector<uint8_t> g1(40 * 33), g2(40 * 33);
  double mean = 0;
  for (int ch = 0; ch < 3; ++ch) {
    for (size_t k = 0; k < g1.size(); ++k) g1[k] = a[k * 3 + ch], g2[k] = b[k * 3 + ch];
    mean += dfb::frame_ssim(g1.data(), g2.data(), 40, 33, 1) / 3;
  }
  EXPECT_NEAR(dfb::frame_ssim(a.data(), b.data(), 40, 33, 3), mean, 1e-13);
}

// Golden values printed by scripts/ssim_reference.py with scikit-image 0.19.3 (Debian
// python3-skimage, numpy 1.24.2): structural_similarity(gaussian_weights=True, sigma=1.5,
// use_sample_covariance=False, data_range=1.0, channel_axis=-1) and
// peak_signal_noise_ratio(data_range=1.0) on the frames /255.
TEST(FrameMetrics, SkimageAgreement) {
  struct Golden {
    const char* name;
    int h, w, c;
    double ssim, psnr;
  };
  const Golden kSkimageGolden[] = {
      {"pattern_vs_pattern", 32, 32, 3, 0.888469577943, 17.362579375251},
      {"gradient_shift_noise", 64, 64, 1, 0.924219226712, 26.351241751495},
      {"pattern_noise", 17, 23, 3, 0.999280131714, 39.975263902374},
      {"gradient_vs_pattern", 17, 23, 3, 0.064409949894, 9.090818703088},
      {"gradient_shift_noise", 11, 11, 3, 0.990968780916, 26.367578587039},
      {"pattern_noise", 64, 64, 3, 0.999266878171, 39.942856997834},
  };
  for (const Golden& g : kSkimageGolden) {
    const auto [a, b] = make_pair(g.name, g.h, g.w, g.c);
    const std::string where = std::string(g.name) + " " + std::to_string(g.h) + "x" + std::to_string(g.w) + "x" +
                              std::to_string(g.c);
    EXPECT_NEAR(dfb::frame_ssim(a.data(), b.data(), g.h, g.w, g.c), g.ssim, 1e-4) << where;
    EXPECT_NEAR(dfb::psnr_from_mse(dfb::frame_mse(a.data(), b.data(), g.h, g.w, g.c)), g.psnr, 1e-4) << where;
    // In fact they agree to the printed digits.
    EXPECT_NEAR(dfb::frame_ssim(a.data(), b.data(), g.h, g.w, g.c), g.ssim, 1e-11) << where;
  }
}

TEST(FrameMetrics, MseAndPsnrOfKnownDifference) {
  for (int k : {1, 7, 100}) {
    const std::vector<uint8_t> a = random_bytes(16, 12, 3, 13, 0, 150);
    std::vector<uint8_t> b(a);
    for (uint8_t& v : b) v = static_cast<uint8_t>(v + k);
    const double mse = dfb::frame_mse(a.data(), b.data(), 16, 12, 3);
    EXPECT_NEAR(mse, (k / 255.0) * (k / 255.0), 1e-15) << k;
    EXPECT_NEAR(dfb::psnr_from_mse(mse), 20 * std::log10(255.0 / k), 1e-10) << k;
  }
  EXPECT_NEAR(dfb::psnr_from_mse(0.01), 20.0, 1e-12);
  EXPECT_EQ(dfb::psnr_from_mse(0.0), std::numeric_limits<double>::infinity());
}

TEST(FrameMetrics, MseOfIdenticalFramesIsZeroAndSymmetric) {
  const std::vector<uint8_t> a = random_bytes(9, 13, 1, 14), b = random_bytes(9, 13, 1, 15);
  EXPECT_EQ(dfb::frame_mse(a.data(), a.data(), 9, 13, 1), 0.0);
  EXPECT_EQ(dfb::frame_mse(a.data(), b.data(), 9, 13, 1), dfb::frame_mse(b.data(), a.data(), 9, 13, 1));
  EXPECT_GT(dfb::frame_mse(a.data(), b.data(), 9, 13, 1), 0.0);
}

TEST(FrameMetrics, ErrorsNameTheProblem) {
  const std::vector<uint8_t> a(64 * 64 * 3, 0);
  const std::vector<double> x(64 * 64 * 3, 0.0);
  expect_error([&] { dfb::frame_ssim(a.data(), a.data(), 10, 20, 3); }, "at least 11x11");
  expect_error([&] { dfb::frame_ssim(a.data(), a.data(), 20, 10, 1); }, "got 20x10x1");
  expect_error([&] { dfb::ssim_f64(x.data(), x.data(), 5, 5, 3); }, "at least 11x11");
  expect_error([&] { dfb::frame_ssim(a.data(), a.data(), 16, 16, 2); }, "1 or 3 channels, got 2");
  expect_error([&] { dfb::ssim_f64(x.data(), x.data(), 16, 16, 4); }, "1 or 3 channels, got 4");
  expect_error([&] { dfb::frame_mse(a.data(), a.data(), 8, 8, 0); }, "1 or 3 channels, got 0");
  expect_error([&] { dfb::frame_mse(a.data(), a.data(), 0, 8, 3); }, "at least 1x1");
  expect_error([&] { dfb::frame_ssim(nullptr, a.data(), 16, 16, 3); }, "null frame");
  expect_error([&] { dfb::psnr_from_mse(-1.0); }, "mse must be >= 0");
}

TEST(PixelStats, ConstantFrame) {
  const std::vector<uint8_t> flat(8 * 9 * 3, 51);  // g = 0.2
  EXPECT_DOUBLE_EQ(dfb::frame_mean(flat.data(), 8, 9, 3), 0.2);
  EXPECT_EQ(dfb::frame_contrast(flat.data(), 8, 9, 3), 0.0);
  EXPECT_EQ(dfb::frame_sharpness(flat.data(), 8, 9, 3), 0.0);
  // g averages the channels: pure red is g = 1/3 everywhere.
  std::vector<uint8_t> red(5 * 5 * 3, 0);
  for (size_t k = 0; k < red.size(); k += 3) red[k] = 255;
  EXPECT_DOUBLE_EQ(dfb::frame_mean(red.data(), 5, 5, 3), 1.0 / 3);
  EXPECT_EQ(dfb::frame_contrast(red.data(), 5, 5, 3), 0.0);
}

TEST(PixelStats, CheckerboardByFormula) {
  // Cells (i + j) even are white (g = 1), odd black: the Laplacian is −4 on white and +4 on black.
  auto board = [](int h, int w, int c) {
    std::vector<uint8_t> v(static_cast<size_t>(h) * w * c);
    for (int i = 0; i < h; ++i)
      for (int j = 0; j < w; ++j)
        for (int ch = 0; ch < c; ++ch) v[(static_cast<size_t>(i) * w + j) * c + ch] = (i + j) % 2 == 0 ? 255 : 0;
    return v;
  };
  // 8×8: the 6×6 valid region is half white, so the Laplacian is ±4 with mean 0: variance 16.
  const std::vector<uint8_t> even = board(8, 8, 1);
  EXPECT_NEAR(dfb::frame_sharpness(even.data(), 8, 8, 1), 16.0, 1e-12);
  EXPECT_NEAR(dfb::frame_contrast(even.data(), 8, 8, 1), 0.5, 1e-12);
  EXPECT_NEAR(dfb::frame_mean(even.data(), 8, 8, 1), 0.5, 1e-12);
  // 7×7, 3 channels: the 5×5 valid region has 13 white and 12 black cells, so the mean
  // Laplacian is 4·(12 − 13)/25 and the variance 16·(1 − 1/25²); 25 of 49 cells are white.
  const std::vector<uint8_t> odd = board(7, 7, 3);
  EXPECT_NEAR(dfb::frame_sharpness(odd.data(), 7, 7, 3), 16.0 * (1 - 1.0 / 625), 1e-12);
  EXPECT_NEAR(dfb::frame_contrast(odd.data(), 7, 7, 3), std::sqrt(25.0 * 24.0) / 49.0, 1e-12);
  EXPECT_NEAR(dfb::frame_mean(odd.data(), 7, 7, 3), 25.0 / 49.0, 1e-12);
}

TEST(PixelStats, Flicker) {
  const std::vector<uint8_t> black(6 * 7 * 3, 0), white(6 * 7 * 3, 255);
  const std::vector<uint8_t> a = random_bytes(6, 7, 3, 16, 0, 200);
  std::vector<uint8_t> b(a);
  for (uint8_t& v : b) v = static_cast<uint8_t>(v + 17);
  EXPECT_EQ(dfb::frame_flicker(a.data(), a.data(), 6, 7, 3), 0.0);
  EXPECT_EQ(dfb::frame_flicker(black.data(), white.data(), 6, 7, 3), 1.0);
  EXPECT_NEAR(dfb::frame_flicker(a.data(), b.data(), 6, 7, 3), 17 / 255.0, 1e-15);
  EXPECT_EQ(dfb::frame_flicker(a.data(), b.data(), 6, 7, 3), dfb::frame_flicker(b.data(), a.data(), 6, 7, 3));
}

TEST(PixelStats, Histogram) {
  const std::vector<uint8_t> black(8 * 8 * 3, 0), white(8 * 8 * 3, 255);
  const std::vector<uint8_t> noise = random_bytes(8, 8, 3, 17);
  const std::vector<double> hb = dfb::frame_histogram(black.data(), 8, 8, 3);
  const std::vector<double> hw = dfb::frame_histogram(white.data(), 8, 8, 3);
  const std::vector<double> hn = dfb::frame_histogram(noise.data(), 8, 8, 3, 10);
  ASSERT_EQ(hb.size(), 32u);
  ASSERT_EQ(hn.size(), 10u);
  EXPECT_EQ(hb.front(), 1.0);  // g = 0 in the first bin, g = 1 in the last
  EXPECT_EQ(hw.back(), 1.0);
  double sum = 0;
  for (double v : hn) sum += v;
  EXPECT_NEAR(sum, 1.0, 1e-12);
  EXPECT_EQ(dfb::histogram_distance(hn, hn), 0.0);
  EXPECT_EQ(dfb::histogram_distance(hb, hw), 1.0);
  // Bin edges are exact: g = 51/255 = 0.2 is the start of bin 1 of 5.
  const std::vector<uint8_t> fifth(4 * 4, 51);
  EXPECT_EQ(dfb::frame_histogram(fifth.data(), 4, 4, 1, 5), (std::vector<double>{0, 1, 0, 0, 0}));
  // Pooling: counts summed over frames, normalised once.
  std::vector<double> counts(4, 0.0);
  dfb::accumulate_histogram(black.data(), 8, 8, 3, counts);
  dfb::accumulate_histogram(white.data(), 8, 8, 3, counts);
  dfb::accumulate_histogram(white.data(), 8, 8, 3, counts);
  EXPECT_EQ(counts, (std::vector<double>{64, 0, 0, 128}));
  const std::vector<double> pooled = dfb::normalize_histogram(counts);
  EXPECT_NEAR(pooled[0], 1.0 / 3, 1e-15);
  EXPECT_NEAR(pooled[3], 2.0 / 3, 1e-15);
  EXPECT_NEAR(dfb::histogram_distance(pooled, dfb::frame_histogram(white.data(), 8, 8, 3, 4)), 1.0 / 3, 1e-15);
}

TEST(PixelStats, ErrorsNameTheProblem) {
  const std::vector<uint8_t> a(10 * 10 * 3, 0);
  expect_error([&] { dfb::frame_sharpness(a.data(), 2, 10, 3); }, "at least 3x3");
  expect_error([&] { dfb::frame_mean(a.data(), 4, 4, 2); }, "1 or 3 channels, got 2");
  expect_error([&] { dfb::frame_contrast(a.data(), 4, 4, 4); }, "1 or 3 channels, got 4");
  expect_error([&] { dfb::frame_flicker(a.data(), a.data(), 4, 0, 3); }, "at least 1x1");
  expect_error([&] { dfb::frame_histogram(a.data(), 4, 4, 3, 0); }, "bins must be >= 1");
  std::vector<double> none;
  expect_error([&] { dfb::accumulate_histogram(a.data(), 4, 4, 3, none); }, "at least 1 bin");
  expect_error([&] { dfb::normalize_histogram({0.0, 0.0}); }, "all zeros");
  expect_error([&] { dfb::histogram_distance({0.5, 0.5}, {1.0}); }, "differ in size");
  expect_error([&] { dfb::histogram_distance({}, {}); }, "empty");
}

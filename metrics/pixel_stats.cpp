// Pixel statistics (see pixel_stats.h).
#include "metrics/pixel_stats.h"

#include <cmath>
#include <cstdlib>
#include <string>

#include "core/error.h"

namespace dfb {

namespace {

void check(const char* what, int height, int width, int channels, int min_side = 1) {
  if (channels != 1 && channels != 3)
    throw Error(std::string(what) + ": frames must have 1 or 3 channels, got " + std::to_string(channels));
  if (height < min_side || width < min_side)
    throw Error(std::string(what) + ": frames must be at least " + std::to_string(min_side) + "x" +
                std::to_string(min_side) + ", got " + std::to_string(height) + "x" + std::to_string(width));
}

// g of every pixel, in [0, 1].
std::vector<double> grey(const uint8_t* frame, int height, int width, int channels) {
  std::vector<double> g(static_cast<size_t>(height) * width);
  for (size_t i = 0; i < g.size(); ++i) {
    int sum = 0;
    for (int c = 0; c < channels; ++c) sum += frame[i * channels + c];
    g[i] = sum / (255.0 * channels);
  }
  return g;
}

// Population mean and variance of the values.
std::pair<double, double> moments(const std::vector<double>& v) {
  double mean = 0;
  for (double x : v) mean += x;
  mean /= static_cast<double>(v.size());
  double var = 0;
  for (double x : v) var += (x - mean) * (x - mean);
  return {mean, var / static_cast<double>(v.size())};
}

}  // namespace

double frame_mean(const uint8_t* frame, int height, int width, int channels) {
  check("frame_mean", height, width, channels);
  return moments(grey(frame, height, width, channels)).first;
}

double frame_contrast(const uint8_t* frame, int height, int width, int channels) {
  check("frame_contrast", height, width, channels);
  return std::sqrt(moments(grey(frame, height, width, channels)).second);
}

double frame_sharpness(const uint8_t* frame, int height, int width, int channels) {
  check("frame_sharpness", height, width, channels, 3);
  const std::vector<double> g = grey(frame, height, width, channels);
  std::vector<double> lap;
  lap.reserve(static_cast<size_t>(height - 2) * (width - 2));
  for (int i = 1; i < height - 1; ++i)
    for (int j = 1; j < width - 1; ++j) {
      const size_t k = static_cast<size_t>(i) * width + j;
      lap.push_back(g[k - width] + g[k + width] + g[k - 1] + g[k + 1] - 4 * g[k]);
    }
  return moments(lap).second;
}

double frame_flicker(const uint8_t* a, const uint8_t* b, int height, int width, int channels) {
  check("frame_flicker", height, width, channels);
  const int64_t n = static_cast<int64_t>(height) * width * channels;
  int64_t sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += std::abs(static_cast<int>(a[i]) - static_cast<int>(b[i]));
  return static_cast<double>(sum) / (255.0 * static_cast<double>(n));
}

std::vector<double> frame_histogram(const uint8_t* frame, int height, int width, int channels, int bins) {
  check("frame_histogram", height, width, channels);
  if (bins < 1) throw Error("frame_histogram: bins must be >= 1, got " + std::to_string(bins));
  std::vector<double> h(static_cast<size_t>(bins), 0.0);
  const std::vector<double> g = grey(frame, height, width, channels);
  for (double x : g) h[std::min(bins - 1, static_cast<int>(x * bins))] += 1.0;
  for (double& v : h) v /= static_cast<double>(g.size());
  return h;
}

double histogram_distance(const std::vector<double>& p, const std::vector<double>& q) {
  if (p.empty() || p.size() != q.size())
    throw Error("histogram_distance: histograms must be non-empty and of one size, got " + std::to_string(p.size()) +
                " and " + std::to_string(q.size()) + " bins");
  double d = 0;
  for (size_t i = 0; i < p.size(); ++i) d += std::fabs(p[i] - q[i]);
  return 0.5 * d;
}

}  // namespace dfb

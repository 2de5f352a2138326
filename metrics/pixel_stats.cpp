// Pixel statistics without ground truth (see pixel_stats.h).
//
// Everything is computed from the integer channel sum s = Σ_c frame[c] of each pixel,
// g = s / (255·channels): sums of s, Laplacians of s and |a − b| are exact integers, and
// only the final moments are taken in double (two-pass, about an exact integer mean), so
// a constant frame gives exactly zero contrast and sharpness.
#include "metrics/pixel_stats.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "base/error.h"

namespace dfb {

namespace {

std::string size_text(int height, int width, int channels) {
  return std::to_string(height) + "x" + std::to_string(width) + "x" + std::to_string(channels);
}

void check_frame(const char* what, const uint8_t* frame, int height, int width, int channels, int min_side = 1) {
  if (frame == nullptr) throw Error(std::string(what) + ": null frame pointer");
  if (channels != 1 && channels != 3)
    throw Error(std::string(what) + ": frames must have 1 or 3 channels, got " + std::to_string(channels) +
                " (frame " + size_text(height, width, channels) + ")");
  if (height < min_side || width < min_side)
    throw Error(std::string(what) + ": frames must be at least " + std::to_string(min_side) + "x" +
                std::to_string(min_side) + ", got " + size_text(height, width, channels));
}

// The channel sum s of every pixel, row-major; g = s / (255·channels).
std::vector<int> channel_sums(const uint8_t* frame, int height, int width, int channels) {
  std::vector<int> s(static_cast<size_t>(height) * width);
  if (channels == 1) {
    for (size_t i = 0; i < s.size(); ++i) s[i] = frame[i];
  } else {
    for (size_t i = 0; i < s.size(); ++i) s[i] = frame[3 * i] + frame[3 * i + 1] + frame[3 * i + 2];
  }
  return s;
}

// Population variance of integer values: two passes about the mean of their exact sum.
double population_variance(const std::vector<int>& v) {
  int64_t sum = 0;
  for (int x : v) sum += x;
  const double mean = static_cast<double>(sum) / static_cast<double>(v.size());
  double ss = 0;
  for (int x : v) ss += (x - mean) * (x - mean);
  return ss / static_cast<double>(v.size());
}

}  // namespace

double frame_mean(const uint8_t* frame, int height, int width, int channels) {
  check_frame("frame_mean", frame, height, width, channels);
  const int64_t n = static_cast<int64_t>(height) * width * channels;
  int64_t sum = 0;
  for (int64_t k = 0; k < n; ++k) sum += frame[k];
  return static_cast<double>(sum) / (255.0 * static_cast<double>(n));
}

double frame_contrast(const uint8_t* frame, int height, int width, int channels) {
  check_frame("frame_contrast", frame, height, width, channels);
  const double var = population_variance(channel_sums(frame, height, width, channels));
  return std::sqrt(var) / (255.0 * channels);
}

double frame_sharpness(const uint8_t* frame, int height, int width, int channels) {
  check_frame("frame_sharpness", frame, height, width, channels, 3);
  const std::vector<int> s = channel_sums(frame, height, width, channels);
  std::vector<int> lap;
  lap.reserve(static_cast<size_t>(height - 2) * (width - 2));
  for (int i = 1; i < height - 1; ++i) {
    const int* up = s.data() + static_cast<size_t>(i - 1) * width;
    const int* mid = up + width;
    const int* down = mid + width;
    for (int j = 1; j < width - 1; ++j) lap.push_back(up[j] + down[j] + mid[j - 1] + mid[j + 1] - 4 * mid[j]);
  }
  const double scale = 255.0 * channels;
  return population_variance(lap) / (scale * scale);
}

double frame_flicker(const uint8_t* a, const uint8_t* b, int height, int width, int channels) {
  check_frame("frame_flicker", a, height, width, channels);
  check_frame("frame_flicker", b, height, width, channels);
  const int64_t n = static_cast<int64_t>(height) * width * channels;
  int64_t sum = 0;
  for (int64_t k = 0; k < n; ++k) sum += a[k] > b[k] ? a[k] - b[k] : b[k] - a[k];
  return static_cast<double>(sum) / (255.0 * static_cast<double>(n));
}

void accumulate_histogram(const uint8_t* frame, int height, int width, int channels, std::vector<double>& counts) {
  check_frame("accumulate_histogram", frame, height, width, channels);
  if (counts.empty()) throw Error("accumulate_histogram: the histogram needs at least 1 bin, got 0");
  const int64_t bins = static_cast<int64_t>(counts.size());
  const int top = 255 * channels;  // s ranges over 0..top
  // bin of s: floor(g·bins) = floor(s·bins / top) exactly in integers; g = 1 joins the last bin.
  std::vector<int> bin_of(static_cast<size_t>(top) + 1);
  for (int v = 0; v <= top; ++v) bin_of[v] = static_cast<int>(std::min<int64_t>(bins - 1, v * bins / top));
  std::vector<int64_t> local(counts.size(), 0);
  for (int s : channel_sums(frame, height, width, channels)) ++local[bin_of[s]];
  for (size_t b = 0; b < counts.size(); ++b) counts[b] += static_cast<double>(local[b]);
}

std::vector<double> normalize_histogram(const std::vector<double>& counts) {
  if (counts.empty()) throw Error("normalize_histogram: empty histogram");
  double sum = 0;
  for (double c : counts) {
    if (!std::isfinite(c) || c < 0)
      throw Error("normalize_histogram: counts must be finite and >= 0, got " + std::to_string(c));
    sum += c;
  }
  if (sum == 0) throw Error("normalize_histogram: the histogram is all zeros (no pixels accumulated)");
  std::vector<double> p(counts.size());
  for (size_t b = 0; b < counts.size(); ++b) p[b] = counts[b] / sum;
  return p;
}

std::vector<double> frame_histogram(const uint8_t* frame, int height, int width, int channels, int bins) {
  if (bins < 1) throw Error("frame_histogram: bins must be >= 1, got " + std::to_string(bins));
  std::vector<double> counts(static_cast<size_t>(bins), 0.0);
  accumulate_histogram(frame, height, width, channels, counts);
  return normalize_histogram(counts);
}

double histogram_distance(const std::vector<double>& p, const std::vector<double>& q) {
  if (p.empty() || q.empty())
    throw Error("histogram_distance: empty histogram (" + std::to_string(p.size()) + " and " +
                std::to_string(q.size()) + " bins)");
  if (p.size() != q.size())
    throw Error("histogram_distance: histograms differ in size, " + std::to_string(p.size()) + " vs " +
                std::to_string(q.size()) + " bins");
  double d = 0;
  for (size_t b = 0; b < p.size(); ++b) d += std::fabs(p[b] - q[b]);
  return 0.5 * d;
}

}  // namespace dfb

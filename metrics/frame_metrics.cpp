// MSE, PSNR and SSIM against the ground truth (see frame_metrics.h).
//
// SSIM: the five local statistics (means of x and y, and of x², y², xy) are Gaussian
// blurs of five planes; OpenCV's separable GaussianBlur on CV_64F computes them, and the
// SSIM map is summed over the valid region only, where no border mode matters. The
// planes live in per-thread scratch matrices, so a stream of same-sized frames allocates
// nothing after the first.
#include "metrics/frame_metrics.h"

#include <array>
#include <cmath>
#include <limits>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <string>

#include "base/error.h"

namespace dfb {

namespace {

constexpr int kWindow = 11;             // side of the Gaussian window
constexpr int kRadius = kWindow / 2;    // cropped on every side: the valid region
constexpr double kSigma = 1.5;
constexpr double kC1 = 0.01 * 0.01;     // (K1·L)², L = 1
constexpr double kC2 = 0.03 * 0.03;     // (K2·L)²

std::string size_text(int height, int width, int channels) {
  return std::to_string(height) + "x" + std::to_string(width) + "x" + std::to_string(channels);
}

// Frames must be non-null, have 1 or 3 channels and sides of at least min_side.
void check_frames(const char* what, const void* a, const void* b, int height, int width, int channels,
                  int min_side) {
  if (a == nullptr || b == nullptr) throw Error(std::string(what) + ": null frame pointer");
  if (channels != 1 && channels != 3)
    throw Error(std::string(what) + ": frames must have 1 or 3 channels, got " + std::to_string(channels) +
                " (frame " + size_text(height, width, channels) + ")");
  if (height < min_side || width < min_side) {
    std::string why = min_side > 1 ? " (the " + std::to_string(kWindow) + "x" + std::to_string(kWindow) +
                                          " SSIM window must fit inside the frame)"
                                    : "";
    throw Error(std::string(what) + ": frames must be at least " + std::to_string(min_side) + "x" +
                std::to_string(min_side) + why + ", got " + size_text(height, width, channels));
  }
}

// The five planes and their blurs, reused across calls on one thread.
struct SsimScratch {
  std::array<cv::Mat, 5> planes;   // x, y, x², y², xy
  std::array<cv::Mat, 5> blurred;  // μx, μy, E[x²], E[y²], E[xy] under the window
};

// Fills the planes from two frames, `value(p, k)` giving element k of frame p (0 or 1) in
// [0, 1]; then blurs them and returns the mean SSIM over the valid region and channels.
template <class Value>
double ssim_planes(int height, int width, int channels, Value value) {
  thread_local SsimScratch s;
  const int type = CV_MAKETYPE(CV_64F, channels);
  for (cv::Mat& m : s.planes) m.create(height, width, type);
  const int row = width * channels;
  for (int i = 0; i < height; ++i) {
    double* x = s.planes[0].ptr<double>(i);
    double* y = s.planes[1].ptr<double>(i);
    double* xx = s.planes[2].ptr<double>(i);
    double* yy = s.planes[3].ptr<double>(i);
    double* xy = s.planes[4].ptr<double>(i);
    const int64_t base = static_cast<int64_t>(i) * row;
    for (int k = 0; k < row; ++k) {
      const double u = value(0, base + k), v = value(1, base + k);
      x[k] = u, y[k] = v, xx[k] = u * u, yy[k] = v * v, xy[k] = u * v;
    }
  }
  // The valid region's pixels read only pixels inside the frame, so the border mode is
  // irrelevant to the result; BORDER_REFLECT is what skimage uses outside it.
  for (int p = 0; p < 5; ++p)
    cv::GaussianBlur(s.planes[p], s.blurred[p], cv::Size(kWindow, kWindow), kSigma, kSigma, cv::BORDER_REFLECT);

  double total = 0;
  for (int i = kRadius; i < height - kRadius; ++i) {
    const double* mx = s.blurred[0].ptr<double>(i);
    const double* my = s.blurred[1].ptr<double>(i);
    const double* exx = s.blurred[2].ptr<double>(i);
    const double* eyy = s.blurred[3].ptr<double>(i);
    const double* exy = s.blurred[4].ptr<double>(i);
    double row_sum = 0;
    for (int k = kRadius * channels; k < (width - kRadius) * channels; ++k) {
      const double ux = mx[k], uy = my[k];
      const double vx = exx[k] - ux * ux, vy = eyy[k] - uy * uy, cxy = exy[k] - ux * uy;
      row_sum += (2 * ux * uy + kC1) * (2 * cxy + kC2) / ((ux * ux + uy * uy + kC1) * (vx + vy + kC2));
    }
    total += row_sum;
  }
  // Every channel has the same number of valid pixels, so the mean over channels of the
  // per-channel means is the mean over all valid (pixel, channel) pairs.
  const double count = static_cast<double>(height - 2 * kRadius) * (width - 2 * kRadius) * channels;
  return total / count;
}

}  // namespace

double frame_mse(const uint8_t* a, const uint8_t* b, int height, int width, int channels) {
  check_frames("frame_mse", a, b, height, width, channels, 1);
  const int64_t n = static_cast<int64_t>(height) * width * channels;
  int64_t sum = 0;  // exact: at most 255² per element
  for (int64_t k = 0; k < n; ++k) {
    const int64_t d = static_cast<int64_t>(a[k]) - b[k];
    sum += d * d;
  }
  return static_cast<double>(sum) / (static_cast<double>(n) * 255.0 * 255.0);
}

double psnr_from_mse(double mse) {
  if (std::isnan(mse) || mse < 0) throw Error("psnr_from_mse: mse must be >= 0, got " + std::to_string(mse));
  if (mse == 0) return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(1.0 / mse);
}

double ssim_f64(const double* a, const double* b, int height, int width, int channels) {
  check_frames("ssim_f64", a, b, height, width, channels, kWindow);
  const double* frames[2] = {a, b};
  return ssim_planes(height, width, channels, [&](int p, int64_t k) { return frames[p][k]; });
}

double frame_ssim(const uint8_t* a, const uint8_t* b, int height, int width, int channels) {
  check_frames("frame_ssim", a, b, height, width, channels, kWindow);
  // v / 255.0 for every byte, so the values equal those ssim_f64 would get after a
  // caller's own division (the two entries agree bit for bit).
  static const std::array<double, 256> scaled = [] {
    std::array<double, 256> t{};
    for (int v = 0; v < 256; ++v) t[v] = v / 255.0;
    return t;
  }();
  const uint8_t* frames[2] = {a, b};
  return ssim_planes(height, width, channels, [&](int p, int64_t k) { return scaled[frames[p][k]]; });
}

}  // namespace dfb

// MSE, PSNR and SSIM (see frame_metrics.h).
#include "metrics/frame_metrics.h"

#include <cmath>
#include <limits>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

#include "core/error.h"

namespace dfb {

namespace {

constexpr int kWindow = 11;       // Gaussian window side
constexpr double kSigma = 1.5;
constexpr double kC1 = 0.01 * 0.01, kC2 = 0.03 * 0.03;

void check_frame(const char* what, int height, int width, int channels, int min_side) {
  if (channels != 1 && channels != 3)
    throw Error(std::string(what) + ": frames must have 1 or 3 channels, got " + std::to_string(channels));
  if (height < min_side || width < min_side)
    throw Error(std::string(what) + ": frames must be at least " + std::to_string(min_side) + "x" +
                std::to_string(min_side) + ", got " + std::to_string(height) + "x" + std::to_string(width));
}

cv::Mat blur(const cv::Mat& m) {
  cv::Mat out;
  // Interior pixels (the valid region) do not depend on the border mode.
  cv::GaussianBlur(m, out, cv::Size(kWindow, kWindow), kSigma, kSigma, cv::BORDER_REFLECT);
  return out;
}

}  // namespace

double frame_mse(const uint8_t* a, const uint8_t* b, int height, int width, int channels) {
  check_frame("frame_mse", height, width, channels, 1);
  const int64_t n = static_cast<int64_t>(height) * width * channels;
  int64_t sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    const int d = static_cast<int>(a[i]) - static_cast<int>(b[i]);
    sum += d * d;
  }
  return static_cast<double>(sum) / (255.0 * 255.0 * static_cast<double>(n));
}

double psnr_from_mse(double mse) {
  if (mse < 0 || std::isnan(mse)) throw Error("psnr_from_mse: MSE must be >= 0, got " + std::to_string(mse));
  return mse == 0 ? std::numeric_limits<double>::infinity() : 10.0 * std::log10(1.0 / mse);
}

double ssim_f64(const double* a, const double* b, int height, int width, int channels) {
  check_frame("ssim", height, width, channels, kWindow);
  const cv::Mat x(height, width, CV_64FC(channels), const_cast<double*>(a));
  const cv::Mat y(height, width, CV_64FC(channels), const_cast<double*>(b));
  const cv::Mat mx = blur(x), my = blur(y), xx = blur(x.mul(x)), yy = blur(y.mul(y)), xy = blur(x.mul(y));
  const int r = kWindow / 2;
  double total = 0;
  for (int i = r; i < height - r; ++i) {
    const double *pmx = mx.ptr<double>(i), *pmy = my.ptr<double>(i), *pxx = xx.ptr<double>(i),
                 *pyy = yy.ptr<double>(i), *pxy = xy.ptr<double>(i);
    for (int k = r * channels; k < (width - r) * channels; ++k) {
      const double ux = pmx[k], uy = pmy[k];
      const double vx = pxx[k] - ux * ux, vy = pyy[k] - uy * uy, cxy = pxy[k] - ux * uy;
      total += (2 * ux * uy + kC1) * (2 * cxy + kC2) / ((ux * ux + uy * uy + kC1) * (vx + vy + kC2));
    }
  }
  // Mean over the valid pixels of each channel, then over channels: one mean over all.
  return total / (static_cast<double>(height - 2 * r) * (width - 2 * r) * channels);
}

double frame_ssim(const uint8_t* a, const uint8_t* b, int height, int width, int channels) {
  check_frame("ssim", height, width, channels, kWindow);
  const size_t n = static_cast<size_t>(height) * width * channels;
  std::vector<double> x(n), y(n);
  for (size_t i = 0; i < n; ++i) x[i] = a[i] / 255.0, y[i] = b[i] / 255.0;
  return ssim_f64(x.data(), y.data(), height, width, channels);
}

}  // namespace dfb

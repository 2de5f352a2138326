// Frame metrics against the ground truth (DESIGN §6), on uint8 HWC frames scaled to
// [0, 1] (data range 1): MSE, PSNR and SSIM (Wang et al. 2004: 11×11 Gaussian window,
// σ = 1.5, C₁ = 0.01², C₂ = 0.03², population statistics, mean of the SSIM map over
// the valid region — pixels whose whole window lies inside the frame — then over
// channels). Torch-free; OpenCV does the Gaussian filtering.
#pragma once
#include <cstdint>

namespace dfb {

// Mean of (a − b)² over pixels and channels, frames in [0, 1].
double frame_mse(const uint8_t* a, const uint8_t* b, int height, int width, int channels);
// 10·log10(1 / mse); +infinity when mse == 0.
double psnr_from_mse(double mse);
// SSIM of two uint8 frames [height, width, channels] (channels 1 or 3; sides >= 11).
double frame_ssim(const uint8_t* a, const uint8_t* b, int height, int width, int channels);
// The same on frames of doubles in [0, 1] (the uint8 form scales and calls this).
double ssim_f64(const double* a, const double* b, int height, int width, int channels);

}  // namespace dfb

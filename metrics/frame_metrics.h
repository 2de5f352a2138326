// Frame metrics against the ground truth (docs/design.md §6): MSE, PSNR and SSIM of a generated
// frame against the real one. Frames are uint8 HWC (height × width × channels, row-major,
// channels 1 or 3), scaled to [0, 1] by /255, so the data range is 1.
//
// SSIM is Wang et al. 2004 as docs/design.md §6 fixes it: an 11×11 Gaussian window with σ = 1.5
// (weights normalised to sum 1), C₁ = 0.01², C₂ = 0.03², population (biased) local
// statistics, the mean of the SSIM map over the valid region only (pixels whose whole
// window lies inside the frame: 5 px cropped on every side), then the mean over channels.
// That is skimage.metrics.structural_similarity(gaussian_weights=True, sigma=1.5,
// use_sample_covariance=False, data_range=1, channel_axis=-1); scripts/ssim_reference.py
// checks it. Torch-free: OpenCV does the Gaussian filtering, in double precision.
#pragma once
#include <cstdint>

namespace dfb {

// Mean over all pixels and channels of (a − b)², in [0, 1] units (i.e. of ((a − b)/255)²).
// Throws dfb::Error for a non-positive size or channels other than 1 and 3.
double frame_mse(const uint8_t* a, const uint8_t* b, int height, int width, int channels);

// PSNR in dB for frames in [0, 1]: 10·log10(1 / mse). Identical frames (mse == 0) give
// +infinity, not an error; callers that average PSNR over frames must cap or skip it.
// Throws dfb::Error for a negative or NaN mse.
double psnr_from_mse(double mse);

// SSIM of two uint8 frames (see the top of this file). Both sides must be >= 11 (the
// window) and channels 1 or 3, else dfb::Error. Scales by /255 and computes exactly what
// ssim_f64 computes on the scaled frames (bit for bit).
double frame_ssim(const uint8_t* a, const uint8_t* b, int height, int width, int channels);

// The same SSIM on frames of doubles in [0, 1] (HWC, row-major). Values outside [0, 1]
// are not rejected; the constants assume data range 1.
double ssim_f64(const double* a, const double* b, int height, int width, int channels);

}  // namespace dfb

// Pixel statistics that need no ground truth (DESIGN §6), on uint8 HWC frames, from the
// grey value g = mean of the channels / 255: mean, contrast (std of g), sharpness
// (variance of the Laplacian of g), temporal flicker, and the grey histogram with its
// total variation distance to the real frames'. Torch-free.
#pragma once
#include <cstdint>
#include <vector>

namespace dfb {

double frame_mean(const uint8_t* frame, int height, int width, int channels);
// Population standard deviation of g.
double frame_contrast(const uint8_t* frame, int height, int width, int channels);
// Population variance of the Laplacian [0 1 0; 1 −4 1; 0 1 0] of g over the valid region
// (pixels with all four neighbours inside the frame; sides >= 3).
double frame_sharpness(const uint8_t* frame, int height, int width, int channels);
// Mean |a − b| over pixels and channels in [0, 1] (a and b: consecutive frames).
double frame_flicker(const uint8_t* a, const uint8_t* b, int height, int width, int channels);
// Normalised histogram of g in `bins` equal bins over [0, 1] (sums to 1).
std::vector<double> frame_histogram(const uint8_t* frame, int height, int width, int channels, int bins = 32);
// Total variation distance ½·Σ|p − q| in [0, 1]; throws for empty or mismatched histograms.
double histogram_distance(const std::vector<double>& p, const std::vector<double>& q);

}  // namespace dfb

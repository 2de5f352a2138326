// Pixel statistics that need no ground truth (docs/design.md §6), on uint8 HWC frames (height ×
// width × channels, row-major, channels 1 or 3). Each works on the grey value
// g = (mean of the pixel's channels) / 255 in [0, 1], except flicker, which compares all
// channels. They tell whether generated frames keep the real frames' brightness,
// contrast, sharpness, temporal stability and grey-level distribution. Torch-free.
//
// Histograms: a pool of frames is accumulated cheaply by summing pixel counts into one
// caller-held vector with accumulate_histogram, then normalising once:
//   std::vector<double> counts(32, 0.0);
//   for (each frame f) accumulate_histogram(f, h, w, c, counts);
//   std::vector<double> real = normalize_histogram(counts);
//   double d = histogram_distance(frame_histogram(g, h, w, c, 32), real);
// Pooled counts weight every pixel equally (frames of one size: every frame equally).
#pragma once
#include <cstdint>
#include <vector>

namespace dfb {

// Mean of g over the frame.
double frame_mean(const uint8_t* frame, int height, int width, int channels);

// Contrast: population (biased, divide by N) standard deviation of g over the frame.
double frame_contrast(const uint8_t* frame, int height, int width, int channels);

// Sharpness: population variance of the Laplacian of g, kernel [0 1 0; 1 −4 1; 0 1 0],
// over the VALID region only (pixels with all four neighbours inside the frame, i.e. a
// 1 px border dropped; no padding). Needs height and width >= 3.
double frame_sharpness(const uint8_t* frame, int height, int width, int channels);

// Temporal flicker between consecutive frames a and b: mean |a − b| over all pixels and
// channels, in [0, 1] units (i.e. of |a − b| / 255).
double frame_flicker(const uint8_t* a, const uint8_t* b, int height, int width, int channels);

// Adds the frame's grey histogram, as pixel counts, to `counts`: bin b of
// B = counts.size() (>= 1) equal bins covers g in [b/B, (b+1)/B), the last bin also g = 1.
// Throws dfb::Error when counts is empty.
void accumulate_histogram(const uint8_t* frame, int height, int width, int channels, std::vector<double>& counts);

// counts divided by their sum (so the result sums to 1). Throws dfb::Error when counts is
// empty, has a negative or non-finite entry, or sums to 0.
std::vector<double> normalize_histogram(const std::vector<double>& counts);

// The frame's normalised grey histogram with `bins` (>= 1) bins: accumulate_histogram into
// zeros, then normalize_histogram.
std::vector<double> frame_histogram(const uint8_t* frame, int height, int width, int channels, int bins = 32);

// Total variation distance ½·Σ|p − q|, in [0, 1] for normalised histograms (0: identical,
// 1: disjoint supports). Throws dfb::Error when either is empty or their sizes differ.
double histogram_distance(const std::vector<double>& p, const std::vector<double>& q);

}  // namespace dfb

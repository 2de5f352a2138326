// Per-rollout, per-frame values of the metrics computed frame by frame (docs/design.md §6):
// against the truth (ssim, psnr, mse), the oracle of bouncing_shapes, and the pixel
// statistics. Each metric gives a table [rollouts][length], NaN where undefined (e.g.
// the truth metrics on context frames, flicker at t = 0). Torch-free; rollouts are
// split over `threads` threads.
#pragma once
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "formats/clips.h"
#include "metrics/oracle.h"

namespace dfb {

using ValueTable = std::vector<std::vector<double>>;  // [rollout][t]

struct FrameValueRequest {
  std::set<std::string> metrics;      // names from metric_catalogue() of the per-frame kind
  std::vector<double> real_histogram; // pooled grey histogram of real frames (for histogram_distance)
  OracleOptions oracle;
  int threads = 1;
};

// `truth` supplies the ground truth frames (ssim, psnr, mse; t >= context only) and
// the object states (oracle_*). Both have the same shape.
std::map<std::string, ValueTable> frame_values(const Clips& video, const Clips& truth, int64_t context,
                                               const FrameValueRequest& request);

// The mean of the grey histograms of `count` frames (uint8 HWC, contiguous), `bins` bins.
std::vector<double> pooled_histogram(const uint8_t* frames, int64_t count, int height, int width, int channels,
                                     int bins = 32);

}  // namespace dfb

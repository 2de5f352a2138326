// Pictures of the rollouts for the report (OpenCV): per method a strip of frames at chosen
// indices (PNG), and one side-by-side video of every method and the truth (WebM, VP8, which
// browsers play). Torch-free.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "formats/clips.h"

namespace dfb {

struct MediaTile {
  std::string label;   // drawn above the tile in the video
  const Clips* clips;  // the rollouts (uint8 [B, L, H, W, C])
};

// PNG bytes: frames `times` of rollout `rollout`, side by side, each scaled by `scale`
// (nearest neighbour) with a 2-pixel gap.
std::vector<uint8_t> strip_png(const Clips& clips, int64_t rollout, const std::vector<int64_t>& times, int scale);

// Writes `path` (.webm): frame t shows every tile's rollout `rollout` at t, side by side,
// labelled, each scaled by `scale`. Throws dfb::Error when the encoder is unavailable.
void side_by_side_video(const std::vector<MediaTile>& tiles, int64_t rollout, int scale, double fps,
                        const std::string& path);

std::string base64(const std::vector<uint8_t>& bytes);

}  // namespace dfb

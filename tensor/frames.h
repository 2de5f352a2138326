// Frames between their stored form and the network's: uint8 [N, L, H, W, C] (the on-disk
// layout of formats/clips.h) and float [N, L, C, H, W] in [-1, 1] (docs/design.md §2).
#pragma once
#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "formats/clips.h"

namespace dfb {

// uint8 frames [n, length, height, width, channels] at `data` → float [n, length, C, H, W]
// in [-1, 1] (x / 127.5 − 1), a new tensor (strided as the permutation leaves it).
torch::Tensor frames_to_tensor(const uint8_t* data, int64_t n, int64_t length, int64_t height, int64_t width,
                               int64_t channels);
// Every clip of `clips` the same way, contiguous.
torch::Tensor clips_to_tensor(const Clips& clips);
// float [N, L, C, H, W] → uint8 [N, L, H, W, C]: (x + 1) · 127.5, rounded, clamped to 0..255.
std::vector<uint8_t> tensor_to_frames(const torch::Tensor& frames);

}  // namespace dfb

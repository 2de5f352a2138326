// The first oracle metric (DESIGN §6): how many shapes a frame shows, from OpenCV
// connected components, one pass per palette colour (so two touching shapes of
// different colours still count as two).
#pragma once
#include <cstdint>
#include <vector>

#include "datasets/clips.h"

namespace dfb {

struct ShapeCountOptions {
  // A pixel belongs to palette colour c when it is nearer to c than to the
  // background (black) and to every other palette colour, and its max channel >= min_value.
  int min_value = 64;
  // Components smaller than this many pixels are noise, not shapes.
  int min_area = 6;
};

// frame: uint8 HWC, 3 channels.
int count_shapes(const uint8_t* frame, int height, int width, const ShapeCountOptions& options = {});

// For every frame of every clip: 1 if count_shapes == expected, else 0. [count * length]
std::vector<uint8_t> shape_count_correct(const Clips& clips, int expected,
                                         const ShapeCountOptions& options = {});

}  // namespace dfb

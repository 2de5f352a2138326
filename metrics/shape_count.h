// The first oracle metric (docs/design.md §6): how many shapes a frame shows, from OpenCV
// connected components, one pass per palette colour (so two touching shapes of
// different colours still count as two).
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "formats/clips.h"

namespace dfb {

struct ShapeCountOptions {
  // A pixel belongs to palette colour c when it is nearer to c than to the
  // background (black) and to every other palette colour, and its max channel >= min_value.
  int min_value = 64;
  // Components smaller than this many pixels are noise, not shapes.
  int min_area = 6;
};

// One shape found in a frame: a connected component of one palette colour.
struct ShapeComponent {
  int color = 0;                 // palette index (kShapePalette)
  int area = 0;                  // pixels
  double x = 0, y = 0;           // centroid in the states' coordinates (pixel (i, j) has centre (j + ½, i + ½))
  std::array<double, 3> rgb{};   // mean colour of its pixels, 0..255
};

// The palette index (kShapePalette) of one RGB pixel, or -1 for background: the pixel
// is nearer to that palette colour than to black and to every other palette colour,
// and its max channel is >= min_value. find_shapes classifies every pixel this way.
int palette_label(const uint8_t* rgb, int min_value = ShapeCountOptions{}.min_value);

// frame: uint8 HWC, 3 channels. Components of at least min_area pixels, by colour then label.
std::vector<ShapeComponent> find_shapes(const uint8_t* frame, int height, int width,
                                        const ShapeCountOptions& options = {});
// find_shapes(...).size()
int count_shapes(const uint8_t* frame, int height, int width, const ShapeCountOptions& options = {});

// For every frame of every clip: 1 if count_shapes == expected, else 0. [count * length]
std::vector<uint8_t> shape_count_correct(const Clips& clips, int expected,
                                         const ShapeCountOptions& options = {});

}  // namespace dfb

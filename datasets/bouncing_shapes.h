// bouncing_shapes (docs/design.md §5): k discs and squares of given radius and colour move
// at constant speed and bounce elastically off the walls (not off each other).
// Deterministic from a seed, on every platform (no std:: distributions).
#pragma once
#include <array>
#include <cstdint>

#include "formats/clips.h"

namespace dfb {

// Object i is drawn in kShapePalette[i % kShapePaletteSize]; later objects are drawn on top.
constexpr int kShapePaletteSize = 6;
extern const std::array<std::array<uint8_t, 3>, kShapePaletteSize> kShapePalette;

struct BouncingShapesOptions {
  int size = 32;             // frames are size x size, 3 channels (RGB)
  int objects = 2;
  double radius_min = 3.5;   // px (half side for squares)
  double radius_max = 4.5;
  double speed_min = 1.0;    // px per frame
  double speed_max = 2.0;
  bool squares = true;       // odd-numbered objects are squares; else all discs
};

// Throws dfb::Error for options that cannot work (size < 8, objects < 1 or > palette,
// radius too large for the canvas, negative speed, ...), naming the option.
void validate(const BouncingShapesOptions& options);

// `count` clips of `length` frames; clip i depends only on (seed, i), so a longer
// or larger request starts with the same clips. Fills frames, states, colors,
// source = "bouncing_shapes", fps = 10, generator_json (the options and seed).
Clips generate_bouncing_shapes(const BouncingShapesOptions& options, int64_t count, int64_t length,
                               uint64_t seed);

}  // namespace dfb

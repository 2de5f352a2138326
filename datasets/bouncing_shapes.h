// bouncing_shapes (docs/design.md §5): k discs and squares of given radius and colour move
// at constant speed and bounce elastically off the walls (not off each other).
// Deterministic from a seed, on every platform (no std:: distributions).
#pragma once
#include <array>
#include <cstdint>
#include <string>

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
  // "fixed": object i in kShapePalette[i]; "random": each clip draws its objects' colours from
  // the palette without replacement (the memory benchmark: recalling one by chance is unlikely).
  std::string colors = "fixed";
  // Information that must be remembered (docs/design.md §5.1): "none"; "blackout", every object
  // hidden for a gap of G frames (each frame a uniform grey, the physics going on); "occluder", a
  // static grey bar over the full height that objects pass behind.
  std::string memory = "none";
  // blackout: a clip has a gap with probability gap_share; its length G ~ U{gap_min..gap_max}
  // and its first hidden frame ~ U{gap_start_min..gap_start_max} (-1: as late as leaves one
  // visible frame after the gap). A clip too short for its gap keeps what fits: a gap never
  // covers the last frame.
  int gap_min = 0, gap_max = 0;
  int gap_start_min = 2, gap_start_max = -1;
  double gap_share = 1.0;
  // occluder: the bar covers columns [occluder_x, occluder_x + occluder_width) (-1: centred).
  int occluder_x = -1, occluder_width = 0;
  int hidden_value = 48;     // grey of a blacked-out frame and of the bar: 0..63, background to the shape oracle
};

// Throws dfb::Error for options that cannot work (size < 8, objects < 1 or > palette,
// radius too large for the canvas, negative speed, ...), naming the option.
void validate(const BouncingShapesOptions& options);

// `count` clips of `length` frames; clip i depends only on (seed, i), so a longer
// or larger request starts with the same clips. Fills frames, states, colors,
// source = "bouncing_shapes", fps = 10, generator_json (the options and seed; the memory
// options only where they differ from their defaults, so older data keeps its key), and with
// memory != "none" also `visible` (which objects each frame shows). With memory options a clip
// of another length may place its gap elsewhere (the gap's range depends on the length).
Clips generate_bouncing_shapes(const BouncingShapesOptions& options, int64_t count, int64_t length,
                               uint64_t seed);

}  // namespace dfb

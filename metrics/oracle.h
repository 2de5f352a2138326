// Oracle metrics for bouncing_shapes (docs/design.md §6): the shapes a frame shows (8-connected
// components per palette colour, find_shapes in shape_count.h), matched to the clip's
// true objects by colour, and judged against the true states of the same clip.
//
// A rollout diverges from its truth in position, so validity does not ask for the true
// positions: a frame is valid when it shows the right number of shapes and every object
// appears with its true size and colour (within tolerance). The distance to the true
// position is reported apart (meaningful early in a rollout only), and the dynamics are
// judged from the frames themselves: the step between consecutive frames against the
// object's true speed (which bounces do not change), and jumps.
//
// Matching: object i is drawn in the palette colour nearest its true colour (i % 6 for
// generated clips). Of the shapes of that colour, the n largest are kept, n = the number of
// objects of that colour (so specks and fragments are never matched while a larger shape of
// the colour exists); with one object per colour (always so for generated clips, which have
// at most 6 objects) the object takes the largest. Objects sharing a colour take the kept
// shapes greedily by distance, nearest pair first, to the object's shape in the previous
// frame (to its true position at t = 0 or after a frame where it was missing).
#pragma once
#include <cstdint>
#include <vector>

#include "formats/clips.h"
#include "metrics/shape_count.h"

namespace dfb {

struct OracleOptions {
  ShapeCountOptions detect;  // how shapes are found (min_value, min_area)
  // Largest |estimated − true radius| (px) of a valid frame. On true frames without
  // overlapping objects (27,848 frames: size 32 and 64, discs only and discs+squares, 300
  // clips x 32 frames each, seed 7) the largest error was 0.33 px for discs and 0.48 px for
  // squares (the side of a drawn square is 2r rounded to whole pixels, so up to 0.5 px off).
  double radius_tolerance = 1.0;
  // Largest RGB distance (0..255 units) of a matched shape's mean colour to its true colour
  // in a valid frame. True frames give 0 (shapes are drawn with hard edges, no anti-aliasing).
  // Degraded true frames (size 64): Gaussian blur σ 0.7 gives at most 32, σ 1.0 a mean of 40
  // (3.5% valid), σ 1.5 a mean of 57; additive noise σ 45 at most 21; all colours dimmed by
  // 10% gives 23, by 20% 46. So 40 admits slightly soft or noisy shapes, not washed-out ones.
  double color_tolerance = 40.0;
  // A step between consecutive frames longer than jump_factor·|v_true| + jump_margin px is a
  // jump. On the true frames above the step never exceeded |v_true| + 1.25 px (centroids of
  // rasterised shapes wobble), so the defaults leave a margin of |v_true| + 0.75 px at least.
  double jump_factor = 2.0;
  double jump_margin = 2.0;  // px
  // A step may include a bounce off a wall when, in both frames, the shape's centre is within
  // radius + |v_true| + bounce_margin px of the same wall; such steps are shorter than |v| and
  // are left out of speed_error (not out of jump).
  double bounce_margin = 1.0;  // px
};

// Throws dfb::Error naming the first option that cannot work (negative or not finite).
void validate(const OracleOptions& options);

// One frame's oracle values; NaN where undefined.
struct OracleFrame {
  double count_correct = 0;   // 1 if the frame shows exactly as many shapes as there are objects, else 0
  double valid = 0;           // 1 if count_correct, every object matched, and each one's radius and
                              // colour error within tolerance, else 0
  double radius_error = 0;    // mean over the matched objects of |estimated − true radius| (px); radius
                              // from the area: √(area/π) for discs, √area / 2 for squares (true shape)
  double color_error = 0;     // mean over the matched objects of the RGB distance of the shape's mean
                              // colour to the true colour (0..255 units)
  double position_error = 0;  // mean over the matched objects of the centroid's distance to the true
                              // (x, y) (px); rollouts drift off the truth, so only the early horizon tells
  double speed_error = 0;     // t >= 1: mean of | |step| − |v_true| | (px/frame) over the objects matched
                              // in frames t−1 and t whose step cannot include a bounce; NaN if none
  double jump = 0;            // t >= 1: 1 if an object's step is longer than jump_factor·|v_true| +
                              // jump_margin, or an object is matched in only one of frames t−1 and t
                              // (appeared or vanished), else 0; NaN at t = 0
};

// One clip. clip: uint8 [length, height, width, 3]; states: float [length, objects, 6] (x, y,
// vx, vy, radius, shape; clips.h); colors: uint8 [objects, 3], each a palette colour.
// Throws dfb::Error for a missing clip, states or colours, objects < 1, a non-positive size,
// non-finite states or a colour no palette colour would classify as.
std::vector<OracleFrame> oracle_clip(const uint8_t* clip, int64_t length, int height, int width, const float* states,
                                     const uint8_t* colors, int64_t objects, const OracleOptions& options = {});

// Every clip of `video` against the states and colours of `truth` (its ground-truth
// continuation: same count, length and frame size). [count][length]. Throws dfb::Error if
// video is not RGB, the shapes differ or truth has no states.
std::vector<std::vector<OracleFrame>> oracle_clips(const Clips& video, const Clips& truth,
                                                   const OracleOptions& options = {});

}  // namespace dfb

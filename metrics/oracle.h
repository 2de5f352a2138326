// Oracle metrics for bouncing_shapes (DESIGN §6): the shapes a frame shows (OpenCV
// connected components per palette colour, shape_count.h), matched to the clip's true
// objects by colour, and judged against the true state of the same clip.
//
// A rollout diverges from its truth in position, so validity does not ask for the true
// positions: a frame is valid when it shows the right number of shapes and every object
// appears with its true radius and colour (within tolerance). Positions are reported
// separately (meaningful early in a rollout only), and the dynamics are judged from the
// frame itself: speed against the object's true (constant) speed, and jumps.
#pragma once
#include <cstdint>
#include <vector>

#include "metrics/shape_count.h"

namespace dfb {

struct OracleOptions {
  ShapeCountOptions detect;
  // Tolerances of a valid frame. On true frames without overlapping objects (2,356 frames:
  // 32 and 64 px, discs and squares) the largest radius error was 0.26 px (squares; 0.13 for
  // discs), the largest colour error 0 (shapes are drawn with hard edges), the largest
  // speed error 1.8 px/frame (a bounce) and no jump was flagged.
  double radius_tolerance = 1.0;   // px
  double color_tolerance = 40.0;   // Euclidean RGB distance, 0..255 units
  // A move between consecutive frames longer than jump_factor·|v| + jump_margin px is a jump.
  double jump_factor = 2.0;
  double jump_margin = 2.0;        // px
};

// Per frame; NaN where undefined.
struct OracleFrame {
  double count_correct = 0;   // 1 if the number of shapes equals the number of objects
  double valid = 0;           // count right, every object matched, radius and colour within tolerance
  double radius_error = 0;    // mean |estimated − true radius| of the matched objects (px); radius from
                              // the area: √(area/π) for discs, √area / 2 for squares
  double color_error = 0;     // mean RGB distance of a matched shape's mean colour to the true colour
  double position_error = 0;  // mean distance of the matched shapes to the true positions (px)
  double speed_error = 0;     // t >= 1: mean | |move| − |v_true| | of objects matched in both frames (px/frame)
  double jump = 0;            // t >= 1: 1 if an object moved too far, appeared or vanished
};

// clip: uint8 [length, height, width, 3]; states: float [length, objects, 6] (x, y, vx, vy,
// radius, shape); colors: uint8 [objects, 3]. Object i is matched to the largest shape of
// the palette colour nearest its true colour (objects sharing a colour: by size order).
std::vector<OracleFrame> oracle_clip(const uint8_t* clip, int64_t length, int height, int width, const float* states,
                                     const uint8_t* colors, int64_t objects, const OracleOptions& options = {});

}  // namespace dfb

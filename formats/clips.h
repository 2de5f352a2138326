// Clips: a torch-free, in-memory set of video clips in the on-disk layout
// (uint8 [count, length, height, width, channels]) with optional true states.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace dfb {

// Per object and frame, the true state of a bouncing_shapes object:
// x, y (pixel centre, x to the right, y down), vx, vy (px/frame), radius (px,
// half side for squares), shape (0 = disc, 1 = square).
constexpr int64_t kStateDim = 6;

struct Clips {
  int64_t count = 0, length = 0, height = 0, width = 0, channels = 0;
  std::vector<uint8_t> frames;  // [count, length, height, width, channels]
  int64_t objects = 0;          // 0 when the data has no true state
  std::vector<float> states;    // [count, length, objects, kStateDim]
  std::vector<uint8_t> colors;  // [count, objects, 3], RGB of each object
  // [count, length, objects]: 1 where the object is in view, 0 where it is hidden (a blackout,
  // behind an occluder); empty = always in view. Only with states.
  std::vector<uint8_t> visible;
  std::string source;           // e.g. "bouncing_shapes"
  std::string split;            // "train" or "eval"
  double fps = 0;               // 0 when unknown
  std::string generator_json;   // how the clips were made (JSON), may be empty

  int64_t frame_bytes() const { return height * width * channels; }
  int64_t clip_bytes() const { return length * frame_bytes(); }
  const uint8_t* clip(int64_t i) const { return frames.data() + i * clip_bytes(); }
  const uint8_t* frame(int64_t i, int64_t t) const { return clip(i) + t * frame_bytes(); }
};

}  // namespace dfb

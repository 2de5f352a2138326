// Memory metrics (docs/metrics.md, "Memory"): what a rollout still knows about objects it last
// saw before a gap (a blackout, an occluder) once they come back into view. Scored on the
// generated frames right after each gap, against the true states, with the chance level a
// model that forgot would score, computed from the data itself. Torch-free.
#pragma once
#include <cstdint>
#include <vector>

#include "formats/clips.h"
#include "metrics/shape_count.h"

namespace dfb {

struct MemoryOptions {
  ShapeCountOptions detect;     // how shapes are found in a frame (as the oracle)
  int64_t frames_after = 2;     // frames scored from the first one after the gap
  double horizon_margin = 0.1;  // recall must exceed chance by this for the memory horizon
};

// One gap of one clip: the objects that come back into view at frame `back` (the first generated
// frame after a run of hidden frames), scored over frames back .. back + frames_after − 1.
struct MemoryScore {
  int64_t clip = 0;
  int64_t gap = 0;               // frames the returning objects were hidden (the longest of them)
  int64_t back = 0;              // first frame in view again
  double colour_recall = 0;      // share of the returning objects matched to a shape of their own colour
  double count_right = 0;        // share of the frames showing as many shapes as objects in view
  double position_error = 0;     // mean distance (px) of the returning objects to their matched shapes; NaN if none
};

// Optimal assignment between true objects and found shapes on position (the Hungarian problem,
// solved exactly by dynamic programming over subsets; at most kShapePaletteSize objects):
// match[k] = the shape given to object k, or −1 when shapes ran out. Minimises the sum of
// centre distances over min(objects, shapes) pairs.
std::vector<int> assign_by_position(const std::vector<std::pair<double, double>>& objects,
                                    const std::vector<ShapeComponent>& shapes);

// The score of every gap that ends inside the generated frames (frame >= context) of every clip
// of `video` against `truth` (same shape; truth with states, colours and `visible`). A clip
// without such a gap gives nothing. Throws dfb::Error when the truth has no visibility record.
std::vector<MemoryScore> memory_scores(const Clips& video, const Clips& truth, int64_t context,
                                       const MemoryOptions& options = {});

// The chance level: the same scores with clip i's frames replaced by the true frames of every
// other clip j ≠ i in turn (a "model" that draws a plausible scene from the data with no memory of
// this clip), averaged over j, per gap of clip i. With one clip there is no chance level (empty).
std::vector<MemoryScore> memory_chance(const Clips& truth, int64_t context, const MemoryOptions& options = {});

}  // namespace dfb

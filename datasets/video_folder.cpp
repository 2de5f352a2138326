// video_folder (docs/design.md §5) as a registered dataset, so a preset can name real videos like a
// procedural dataset: the clips of a split are cut from that split's videos (decoded with
// datasets/video_import's options). Videos, not clips, are split: "eval" lists the held-out
// ones (or an evenly spaced share of them, "eval_share"); or, with "eval_last" = s, every
// video gives its last share s of frames to evaluation and the rest to training (for one
// long video; still no evaluation frame is a training frame). The `count` clips of `length`
// frames start at evenly spaced positions over the split's frames (overlapping when there
// are few), never across two videos; too few frames for even that is an error.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/json_reader.h"
#include "base/registry.h"
#include "datasets/dataset_registry.h"
#include "datasets/video_import.h"

namespace dfb {
namespace {

Clips make(JsonReader& r, int64_t count, int64_t length, uint64_t seed, const std::string& split) {
  VideoImportOptions o;
  o.size = 32;
  o.eval_share = 0.25;
  o.quiet = true;
  double eval_last = 0;
  r.required("videos", o.videos)
      .get("eval", o.eval_videos)
      .get("eval_share", o.eval_share)
      .get("eval_last", eval_last)
      .get("size", o.size)
      .get("gray", o.gray)
      .get("crop", o.crop)
      .get("skip", o.skip);
  r.finish();
  r.check(o.size >= 8 && o.size <= 1024, "size", "must be in [8, 1024]");
  r.check(o.skip >= 1, "skip", "must be >= 1");
  r.check(o.eval_share >= 0 && o.eval_share < 1, "eval_share", "must be in [0, 1)");
  r.check(eval_last >= 0 && eval_last < 1, "eval_last", "must be in [0, 1)");
  r.check(eval_last == 0 || o.eval_videos.empty(), "eval_last", "holds out the end of every video; leave out \"eval\"");
  if (!r.errors().empty()) return {};
  (void)seed;  // real videos: the clips are what they are
  o.clip = length;

  const std::vector<std::string> all = expand_videos(o.videos);
  std::vector<std::string> eval = o.eval_videos;
  if (eval_last == 0 && eval.empty()) {
    const std::vector<bool> held = held_out_share(all.size(), o.eval_share);
    for (size_t k = 0; k < all.size(); ++k)
      if (held[k]) eval.push_back(all[k]);
  }
  auto held_out = [&](const std::string& v) {
    for (const std::string& e : eval)
      if (same_video(e, v)) return true;
    return false;
  };
  std::vector<std::string> mine;
  for (const std::string& v : all)
    if (eval_last > 0 || held_out(v) == (split == "eval")) mine.push_back(v);
  if (mine.empty())
    throw Error("video_folder: no " + split + " video (" + std::to_string(all.size()) + " given, " +
                std::to_string(eval.size()) + " held out for evaluation; " +
                (split == "eval" ? "name one in data.options.eval" : "keep at least one out of data.options.eval") + ")");

  // Decode the split's videos (only the first frames when a single short clip is asked for,
  // as when the frame shape is probed), and the part of each this split may use.
  const int64_t enough = count * length <= 16 && eval_last == 0 ? count * length : 0;
  struct Segment {
    const DecodedVideo* video;
    int64_t first, last;  // kept frames [first, last)
  };
  std::vector<DecodedVideo> videos;
  videos.reserve(mine.size());
  std::vector<Segment> segments;
  int64_t starts = 0;  // clips of `length` at stride 1, over all segments
  for (const std::string& v : mine) {
    videos.push_back(decode_video(v, o, enough));
    const VideoReport& rep = videos.back().report;
    if (!rep.problem.empty()) throw Error("video_folder: " + v + " " + rep.problem);
    const int64_t cut = static_cast<int64_t>(static_cast<double>(rep.frames) * (1 - eval_last));
    Segment seg{&videos.back(), 0, rep.frames};
    if (eval_last > 0) (split == "eval" ? seg.first : seg.last) = cut;
    segments.push_back(seg);
    starts += std::max<int64_t>(0, seg.last - seg.first - length + 1);
    if (enough > 0 && rep.frames >= length) break;
  }
  if (starts < count)
    throw Error("video_folder: the " + split + " videos give " + std::to_string(starts) + " clips of " +
                std::to_string(length) + " frames even overlapping; " + std::to_string(count) +
                " are needed (add videos, lower data.options.skip, or ask for fewer clips)");
  // Evenly spaced starts over the concatenated start positions (never across two segments).
  Clips c;
  c.count = count;
  c.length = length;
  c.height = c.width = o.size;
  c.channels = o.gray ? 1 : 3;
  c.source = "video_folder";
  c.split = split;
  c.fps = videos.front().report.fps / static_cast<double>(o.skip);
  c.generator_json = nlohmann::json({{"dataset", "video_folder"}, {"videos", mine}, {"size", o.size},
                                     {"gray", o.gray}, {"crop", o.crop}, {"skip", o.skip},
                                     {"eval_last", eval_last}, {"split", split}, {"count", count},
                                     {"length", length}})
                         .dump();
  const int64_t fb = static_cast<int64_t>(o.size) * o.size * c.channels;
  c.frames.reserve(static_cast<size_t>(count * length * fb));
  for (int64_t i = 0; i < count; ++i) {
    int64_t pos = count == 1 ? 0 : i * (starts - 1) / (count - 1);
    for (const Segment& seg : segments) {
      const int64_t here = std::max<int64_t>(0, seg.last - seg.first - length + 1);
      if (pos >= here) {
        pos -= here;
        continue;
      }
      const auto from = seg.video->frames.begin() + (seg.first + pos) * fb;
      c.frames.insert(c.frames.end(), from, from + length * fb);
      break;
    }
  }
  return c;
}

Registrar<DatasetFactory> reg("video_folder",
                              "real videos decoded with OpenCV, split by video (options: videos, eval, eval_share, "
                              "eval_last, size, gray, crop, skip)",
                              DatasetFactory{&make});

}  // namespace
}  // namespace dfb

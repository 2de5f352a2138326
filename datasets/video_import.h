// video_folder (docs/design.md §5): real videos decoded with OpenCV into dataset files. Each video is
// decoded frame by frame (every skip-th frame kept), center-cropped to a square (optional),
// resized with area interpolation, converted to RGB or grey, and cut into clips of `clip`
// frames every `stride` frames. Videos, not clips, are split between training and
// evaluation, so no evaluation frame comes from a training video. A file that does not open,
// decodes to no frame, or is shorter than one clip is reported and skipped; the output files
// are written whole at the end or not at all. Torch-free.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace dfb {

struct VideoImportOptions {
  std::vector<std::string> videos;       // files (a folder stands for the video files in it)
  int size = 64;                         // frames are size x size
  bool gray = false;                     // 1 channel instead of RGB
  bool crop = true;                      // center crop to a square before resizing
  int64_t clip = 16;                     // frames per clip
  int64_t stride = 0;                    // first frames of consecutive clips this far apart; 0 = clip
  int64_t skip = 1;                      // keep one decoded frame in `skip`
  double eval_share = 0.25;              // share of the videos (at least one of two or more) held out; 0 = none
  std::vector<std::string> eval_videos;  // or exactly these (paths as given)
  std::string out;                       // training clips; evaluation clips go to eval_path(out)
  bool quiet = false;
};

struct VideoReport {
  std::string path, split, problem;  // problem: why it was skipped ("" = imported)
  double fps = 0;
  int64_t frames = 0, clips = 0;     // kept frames (after skip), clips cut
};

struct VideoImportResult {
  std::vector<VideoReport> videos;   // every input, in order
  std::string train_file, eval_file; // "" when that split got no clip
  int64_t train_clips = 0, eval_clips = 0, frames = 0;
  double seconds = 0;
};

// "x.h5" -> "x.eval.h5"
std::string eval_path(const std::string& train_path);

// One video decoded with the import's frame options (size, gray, crop, skip); at most
// `max_frames` kept frames (0 = all). On a problem, report.problem says what and frames is empty.
struct DecodedVideo {
  VideoReport report;
  std::vector<uint8_t> frames;        // kept frames, size x size x channels each
  std::vector<int64_t> source_index;  // decoded frame index of each kept frame
};
DecodedVideo decode_video(const std::string& path, const VideoImportOptions& options, int64_t max_frames = 0);
// Which of n videos an evenly spaced `share` holds out for evaluation: none for fewer than
// two videos or a share of 0, else round(share · n), at least one.
std::vector<bool> held_out_share(size_t n, double share);
// Whether two paths name the same video file (as given, or once resolved).
bool same_video(const std::string& a, const std::string& b);
// Files as given; a folder stands for its video files, sorted.
std::vector<std::string> expand_videos(const std::vector<std::string>& inputs);

// Throws dfb::Error before writing anything when no video gives a clip, or options are wrong.
VideoImportResult import_videos(const VideoImportOptions& options);
// The summary table printed at the end of an import (skipped files listed with the reason).
std::string format_import(const VideoImportResult& result);

}  // namespace dfb

// dfbench data import (see video_import.h).
#include "datasets/video_import.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "base/error.h"
#include "base/progress.h"
#include "formats/clips.h"
#include "formats/dataset_file.h"

namespace dfb {

namespace fs = std::filesystem;

namespace {

bool video_extension(const fs::path& p) {
  std::string e = p.extension().string();
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  for (const char* v : {".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv", ".ogv"})
    if (e == v) return true;
  return false;
}

}  // namespace

std::vector<bool> held_out_share(size_t n, double share) {
  std::vector<bool> held(n, false);
  if (n < 2 || share <= 0) return held;
  const size_t count = std::max<size_t>(1, static_cast<size_t>(std::lround(share * static_cast<double>(n))));
  for (size_t k = 0; k < n; ++k) held[k] = (k + 1) * count / n > k * count / n;
  return held;
}

bool same_video(const std::string& a, const std::string& b) {
  return a == b || fs::weakly_canonical(a) == fs::weakly_canonical(b);
}

std::vector<std::string> expand_videos(const std::vector<std::string>& inputs) {
  std::vector<std::string> out;
  for (const std::string& in : inputs) {
    if (!fs::is_directory(in)) {
      out.push_back(in);
      continue;
    }
    std::vector<std::string> found;
    for (const auto& e : fs::directory_iterator(in))
      if (e.is_regular_file() && video_extension(e.path())) found.push_back(e.path().string());
    std::sort(found.begin(), found.end());
    out.insert(out.end(), found.begin(), found.end());
  }
  return out;
}

DecodedVideo decode_video(const std::string& path, const VideoImportOptions& o, int64_t max_frames) {
  DecodedVideo d;
  d.report.path = path;
  if (!fs::is_regular_file(path)) {
    d.report.problem = "no such file";
    if (path.rfind("/usr/share/doc/opencv-doc/", 0) == 0)
      d.report.problem += " (Debian's opencv-doc ships it: scripts/setup.sh --real-data, or apt-get install opencv-doc)";
    return d;
  }
  // FFmpeg only: when it cannot open a file, OpenCV's other backends (GStreamer) would only
  // add noise to the report. OpenCV's own log lines are silenced; the summary says it all.
  cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
  cv::VideoCapture cap(path, cv::CAP_FFMPEG);
  if (!cap.isOpened()) {
    d.report.problem = "does not open as a video (not a video, or a codec OpenCV lacks)";
    return d;
  }
  d.report.fps = cap.get(cv::CAP_PROP_FPS);
  const double announced = cap.get(cv::CAP_PROP_FRAME_COUNT);
  const int channels = o.gray ? 1 : 3;
  const size_t frame_bytes = static_cast<size_t>(o.size) * o.size * channels;
  Progress progress("import " + fs::path(path).filename().string() + " (frames)",
                    announced > 0 ? static_cast<int64_t>(announced) : 0, 0, o.quiet ? 1e9 : 10.0);
  cv::Mat frame, square, small, converted;
  int64_t index = 0;
  try {
    while (cap.read(frame)) {
      if (frame.empty()) break;
      if (max_frames > 0 && static_cast<int64_t>(d.source_index.size()) >= max_frames) break;
      if (index % o.skip == 0) {
        square = frame;
        if (o.crop) {
          const int side = std::min(frame.cols, frame.rows);
          square = frame(cv::Rect((frame.cols - side) / 2, (frame.rows - side) / 2, side, side));
        }
        cv::resize(square, small, cv::Size(o.size, o.size), 0, 0, cv::INTER_AREA);
        if (small.channels() == 1 && o.gray)
          converted = small;
        else if (small.channels() == 1)
          cv::cvtColor(small, converted, cv::COLOR_GRAY2RGB);
        else if (small.channels() == 4)
          cv::cvtColor(small, converted, o.gray ? cv::COLOR_BGRA2GRAY : cv::COLOR_BGRA2RGB);
        else
          cv::cvtColor(small, converted, o.gray ? cv::COLOR_BGR2GRAY : cv::COLOR_BGR2RGB);
        if (!converted.isContinuous()) converted = converted.clone();
        d.frames.insert(d.frames.end(), converted.data, converted.data + frame_bytes);
        d.source_index.push_back(index);
      }
      ++index;
      if (!o.quiet && announced > 0) progress.update(std::min<int64_t>(index, static_cast<int64_t>(announced)));
    }
  } catch (const cv::Exception& e) {
    d.report.problem = std::string("decoding failed after ") + std::to_string(index) + " frames: " + e.what();
  }
  if (!o.quiet && announced > 0) progress.finish();
  d.report.frames = static_cast<int64_t>(d.source_index.size());
  if (d.report.problem.empty() && index == 0) d.report.problem = "decodes to no frame";
  // A damaged or cut file often still opens and decodes its first frames; its header tells.
  if (d.report.problem.empty() && max_frames == 0 && announced > 0 && static_cast<double>(index) < 0.95 * announced - 1)
    d.report.problem = "decoded " + std::to_string(index) + " of the " + std::to_string(static_cast<int64_t>(announced)) +
                       " frames its header announces (truncated or damaged)";
  if (d.report.problem.empty() && d.report.frames < o.clip)
    d.report.problem = "has " + std::to_string(d.report.frames) + " frames (after --skip), fewer than one clip of " +
                       std::to_string(o.clip);
  if (!d.report.problem.empty()) {
    d.report.frames = 0;
    d.frames.clear();
    d.source_index.clear();
  }
  return d;
}

std::string eval_path(const std::string& train_path) {
  const fs::path p(train_path);
  return (p.parent_path() / (p.stem().string() + ".eval" + p.extension().string())).string();
}

VideoImportResult import_videos(const VideoImportOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  if (o.videos.empty()) throw Error("data import: no video given (--videos FILE_OR_FOLDER...)");
  if (o.size < 8 || o.size > 1024) throw Error("data import: --size must be in [8, 1024], got " + std::to_string(o.size));
  if (o.clip < 1) throw Error("data import: --clip must be >= 1");
  if (o.stride < 0 || o.skip < 1) throw Error("data import: --stride must be >= 0 and --skip >= 1");
  if (!(o.eval_share >= 0 && o.eval_share < 1)) throw Error("data import: --eval-share must be in [0, 1)");
  if (o.out.empty()) throw Error("data import: --out FILE.h5 is required");
  const int64_t stride = o.stride > 0 ? o.stride : o.clip;
  const int channels = o.gray ? 1 : 3;
  const int64_t frame_bytes = static_cast<int64_t>(o.size) * o.size * channels;

  VideoImportResult result;
  std::vector<DecodedVideo> decoded;
  for (const std::string& path : expand_videos(o.videos)) {
    decoded.push_back(decode_video(path, o));
    DecodedVideo& d = decoded.back();
    if (d.report.problem.empty()) d.report.clips = (d.report.frames - o.clip) / stride + 1;
    result.frames += d.report.frames;
  }
  // Which videos are held out: the ones named, or an evenly spaced share of those with clips.
  std::vector<size_t> usable;
  for (size_t i = 0; i < decoded.size(); ++i)
    if (decoded[i].report.problem.empty()) usable.push_back(i);
  if (usable.empty()) {
    std::string why;
    for (const DecodedVideo& d : decoded) why += "\n  " + d.report.path + ": " + d.report.problem;
    throw Error("data import: no video gave a clip; nothing written:" + why);
  }
  for (size_t i : usable) decoded[i].report.split = "train";
  if (!o.eval_videos.empty()) {
    for (const std::string& e : o.eval_videos) {
      bool found = false;
      for (size_t i : usable)
        if (same_video(decoded[i].report.path, e)) {
          decoded[i].report.split = "eval";
          found = true;
        }
      if (!found) throw Error("data import: --eval " + e + " is not among the imported videos");
    }
  } else {
    const std::vector<bool> held = held_out_share(usable.size(), o.eval_share);
    for (size_t k = 0; k < usable.size(); ++k)
      if (held[k]) decoded[usable[k]].report.split = "eval";
  }

  // One file per split, written whole.
  nlohmann::json videos = nlohmann::json::array();
  for (const DecodedVideo& d : decoded)
    videos.push_back({{"path", d.report.path}, {"fps", d.report.fps}, {"frames", d.report.frames},
                      {"split", d.report.split}, {"problem", d.report.problem}});
  const nlohmann::json generator = {{"importer", "video_folder"}, {"size", o.size}, {"gray", o.gray},
                                    {"crop", o.crop},           {"clip", o.clip}, {"stride", stride},
                                    {"skip", o.skip},           {"videos", videos}};
  for (const char* split : {"train", "eval"}) {
    Clips c;
    c.length = o.clip;
    c.height = c.width = o.size;
    c.channels = channels;
    c.source = "video_folder";
    c.split = split;
    c.generator_json = generator.dump();
    std::vector<int64_t> clip_video, clip_frames;
    for (size_t v = 0; v < decoded.size(); ++v) {
      const DecodedVideo& d = decoded[v];
      if (d.report.split != split) continue;
      if (c.fps == 0) c.fps = d.report.fps / static_cast<double>(o.skip);
      for (int64_t k = 0; k < d.report.clips; ++k) {
        const int64_t first = k * stride;
        c.frames.insert(c.frames.end(), d.frames.begin() + first * frame_bytes,
                        d.frames.begin() + (first + o.clip) * frame_bytes);
        clip_video.push_back(static_cast<int64_t>(v));
        clip_frames.push_back(d.source_index[first]);
        clip_frames.push_back(d.source_index[first + o.clip - 1] + 1);
        ++c.count;
      }
    }
    if (c.count == 0) continue;
    const std::string path = std::string(split) == "train" ? o.out : eval_path(o.out);
    write_dataset_file(path, c, [&](h5::Writer& w) {
      // Where each clip comes from: the index of its video in the "generator" attribute's
      // "videos" list, and the decoded frames [first, last) it spans (every skip-th one kept).
      w.write("clip_video", h5::DType::kI64, clip_video.data(), {c.count});
      w.write("clip_frames", h5::DType::kI64, clip_frames.data(), {c.count, 2});
    });
    (std::string(split) == "train" ? result.train_file : result.eval_file) = path;
    (std::string(split) == "train" ? result.train_clips : result.eval_clips) = c.count;
  }
  for (const DecodedVideo& d : decoded) result.videos.push_back(d.report);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return result;
}

std::string format_import(const VideoImportResult& r) {
  std::string out;
  char line[512];
  std::snprintf(line, sizeof line, "%-48s %6s %8s %6s %7s\n", "video", "split", "frames", "clips", "fps");
  out += line;
  std::vector<const VideoReport*> skipped;
  for (const VideoReport& v : r.videos) {
    if (!v.problem.empty()) {
      skipped.push_back(&v);
      continue;
    }
    std::snprintf(line, sizeof line, "%-48s %6s %8lld %6lld %7.2f\n", v.path.c_str(), v.split.c_str(),
                  static_cast<long long>(v.frames), static_cast<long long>(v.clips), v.fps);
    out += line;
  }
  std::snprintf(line, sizeof line, "%lld frames in %.1f s (%.0f frames/s); %lld training clips%s%s, %lld evaluation clips%s%s\n",
                static_cast<long long>(r.frames), r.seconds, r.frames / std::max(r.seconds, 1e-9),
                static_cast<long long>(r.train_clips), r.train_file.empty() ? "" : " -> ", r.train_file.c_str(),
                static_cast<long long>(r.eval_clips), r.eval_file.empty() ? "" : " -> ", r.eval_file.c_str());
  out += line;
  if (r.eval_clips == 0) out += "note: no evaluation clips: give two or more videos (or --eval VIDEO)\n";
  if (!skipped.empty()) {
    out += "skipped " + std::to_string(skipped.size()) + " file(s):\n";
    for (const VideoReport* v : skipped) out += "  " + v->path + ": " + v->problem + "\n";
  }
  return out;
}

}  // namespace dfb

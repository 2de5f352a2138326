// Strips and the side-by-side video (see media.h).
#include "reports/media.h"

#include <algorithm>
#include <filesystem>
#include <opencv2/core.hpp>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "base/error.h"

namespace dfb {

namespace {

// Frame t of rollout i as a BGR image scaled by `scale`.
cv::Mat frame_bgr(const Clips& c, int64_t i, int64_t t, int scale) {
  const int type = c.channels == 3 ? CV_8UC3 : CV_8UC1;
  const cv::Mat raw(static_cast<int>(c.height), static_cast<int>(c.width), type,
                    const_cast<uint8_t*>(c.frame(i, t)));
  cv::Mat bgr, big;
  if (c.channels == 3) cv::cvtColor(raw, bgr, cv::COLOR_RGB2BGR);
  else cv::cvtColor(raw, bgr, cv::COLOR_GRAY2BGR);
  cv::resize(bgr, big, cv::Size(), scale, scale, cv::INTER_NEAREST);
  return big;
}

}  // namespace

std::vector<uint8_t> strip_png(const Clips& c, int64_t rollout, const std::vector<int64_t>& times, int scale) {
  if (rollout >= c.count || times.empty()) throw Error("strip: no such rollout or no frames");
  const int w = static_cast<int>(c.width) * scale, h = static_cast<int>(c.height) * scale, gap = 2;
  cv::Mat strip(h, static_cast<int>(times.size()) * (w + gap) - gap, CV_8UC3, cv::Scalar(255, 255, 255));
  for (size_t k = 0; k < times.size(); ++k)
    frame_bgr(c, rollout, std::min(times[k], c.length - 1), scale)
        .copyTo(strip(cv::Rect(static_cast<int>(k) * (w + gap), 0, w, h)));
  std::vector<uint8_t> png;
  if (!cv::imencode(".png", strip, png)) throw Error("strip: PNG encoding failed");
  return png;
}

void side_by_side_video(const std::vector<MediaTile>& tiles, int64_t rollout, int scale, double fps,
                        const std::string& path) {
  if (tiles.empty()) throw Error("video: nothing to show");
  const Clips& first = *tiles.front().clips;
  const int w = static_cast<int>(first.width) * scale, h = static_cast<int>(first.height) * scale;
  const int label_h = 18, gap = 4;
  const int width = static_cast<int>(tiles.size()) * (w + gap) - gap, height = h + label_h;
  // VP8 in WebM: every browser plays it. OpenCV warns that the tag is unusual, then uses it.
  cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_ERROR);
  const std::string tmp = path + ".tmp.webm";
  cv::VideoWriter writer(tmp, cv::CAP_FFMPEG, cv::VideoWriter::fourcc('V', 'P', '8', '0'), fps,
                         cv::Size(width + width % 2, height + height % 2));
  if (!writer.isOpened())
    throw Error("video: cannot write WebM (VP8) to " + tmp + "; OpenCV's FFmpeg backend is missing (libopencv-videoio)");
  for (int64_t t = 0; t < first.length; ++t) {
    cv::Mat canvas(height + height % 2, width + width % 2, CV_8UC3, cv::Scalar(255, 255, 255));
    for (size_t k = 0; k < tiles.size(); ++k) {
      const Clips& c = *tiles[k].clips;
      const int x = static_cast<int>(k) * (w + gap);
      cv::Mat tile = frame_bgr(c, rollout, std::min(t, c.length - 1), scale);
      if (tile.cols != w || tile.rows != h) cv::resize(tile, tile, cv::Size(w, h), 0, 0, cv::INTER_NEAREST);  // other runs' sizes
      tile.copyTo(canvas(cv::Rect(x, label_h, w, h)));
      std::string label = tiles[k].label.substr(0, static_cast<size_t>(std::max(4, w / 7)));
      cv::putText(canvas, label, cv::Point(x + 2, 13), cv::FONT_HERSHEY_PLAIN, 0.9, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
    }
    cv::putText(canvas, "t=" + std::to_string(t), cv::Point(width - 44, height - 4), cv::FONT_HERSHEY_PLAIN, 0.8,
                cv::Scalar(255, 255, 255), 1, cv::LINE_AA);
    writer.write(canvas);
  }
  writer.release();
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw Error("video: cannot rename " + tmp + " to " + path + ": " + ec.message());
}

std::string base64(const std::vector<uint8_t>& bytes) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    const uint32_t n = (static_cast<uint32_t>(bytes[i]) << 16) | (i + 1 < bytes.size() ? bytes[i + 1] << 8 : 0) |
                       (i + 2 < bytes.size() ? bytes[i + 2] : 0);
    out += k[(n >> 18) & 63];
    out += k[(n >> 12) & 63];
    out += i + 1 < bytes.size() ? k[(n >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? k[n & 63] : '=';
  }
  return out;
}

}  // namespace dfb

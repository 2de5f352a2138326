// Shape counting: nearest-colour classification into background or a palette
// colour, then 8-connected components per colour (OpenCV).
#include "metrics/shape_count.h"

#include <algorithm>
#include <array>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <string>

#include "base/error.h"
#include "datasets/bouncing_shapes.h"

namespace dfb {

namespace {

constexpr uint8_t kBackground = 255;  // label for background pixels

int squared_distance(const uint8_t* p, const std::array<uint8_t, 3>& c) {
  int d = 0;
  for (int k = 0; k < 3; ++k) {
    const int diff = static_cast<int>(p[k]) - static_cast<int>(c[k]);
    d += diff * diff;
  }
  return d;
}

// Palette index of the pixel, or kBackground.
uint8_t classify(const uint8_t* p, int min_value) {
  const int max_channel = std::max(p[0], std::max(p[1], p[2]));
  if (max_channel < min_value) return kBackground;
  int best = squared_distance(p, {0, 0, 0});
  uint8_t label = kBackground;
  for (int c = 0; c < kShapePaletteSize; ++c) {
    const int d = squared_distance(p, kShapePalette[c]);
    if (d < best) {
      best = d;
      label = static_cast<uint8_t>(c);
    }
  }
  return label;
}

}  // namespace

int palette_label(const uint8_t* rgb, int min_value) {
  const uint8_t label = classify(rgb, min_value);
  return label == kBackground ? -1 : label;
}

std::vector<ShapeComponent> find_shapes(const uint8_t* frame, int height, int width, const ShapeCountOptions& options) {
  if (height <= 0 || width <= 0)
    throw Error("count_shapes: frame must be non-empty, got " + std::to_string(height) + "x" +
                std::to_string(width));
  if (frame == nullptr) throw Error("count_shapes: frame is null");

  // Labels, and per colour the bounding box of its pixels: each colour's components are
  // then found within its box only (the whole frame for noise, a few shapes' area otherwise).
  cv::Mat labels(height, width, CV_8U);
  std::array<int, kShapePaletteSize> x0, y0, x1, y1;  // box [x0, x1) x [y0, y1); empty when x1 == 0
  x0.fill(width), y0.fill(height), x1.fill(0), y1.fill(0);
  for (int y = 0; y < height; ++y) {
    uint8_t* row = labels.ptr<uint8_t>(y);
    for (int x = 0; x < width; ++x) {
      const uint8_t c = classify(frame + (static_cast<int64_t>(y) * width + x) * 3, options.min_value);
      row[x] = c;
      if (c == kBackground) continue;
      x0[c] = std::min(x0[c], x), x1[c] = std::max(x1[c], x + 1);
      y0[c] = std::min(y0[c], y), y1[c] = std::max(y1[c], y + 1);
    }
  }

  std::vector<ShapeComponent> found;
  cv::Mat mask, components, stats, centroids;
  std::vector<std::array<double, 3>> rgb;
  for (int c = 0; c < kShapePaletteSize; ++c) {
    if (x1[c] == 0) continue;  // colour absent
    const cv::Rect box(x0[c], y0[c], x1[c] - x0[c], y1[c] - y0[c]);
    mask = (labels(box) == c);
    const int n = cv::connectedComponentsWithStats(mask, components, stats, centroids, 8, CV_32S);
    rgb.assign(static_cast<size_t>(n), std::array<double, 3>{0, 0, 0});
    for (int y = 0; y < box.height; ++y) {
      const int* row = components.ptr<int>(y);
      const uint8_t* pixel = frame + (static_cast<int64_t>(y + box.y) * width + box.x) * 3;
      for (int x = 0; x < box.width; ++x, pixel += 3)
        if (row[x] > 0)
          for (int k = 0; k < 3; ++k) rgb[row[x]][k] += pixel[k];
    }
    for (int k = 1; k < n; ++k) {  // label 0 is the background of the mask
      const int area = stats.at<int>(k, cv::CC_STAT_AREA);
      if (area < options.min_area) continue;
      ShapeComponent s;
      s.color = c;
      s.area = area;
      s.x = centroids.at<double>(k, 0) + box.x + 0.5;
      s.y = centroids.at<double>(k, 1) + box.y + 0.5;
      for (int ch = 0; ch < 3; ++ch) s.rgb[ch] = rgb[k][ch] / area;
      found.push_back(s);
    }
  }
  return found;
}

int count_shapes(const uint8_t* frame, int height, int width, const ShapeCountOptions& options) {
  return static_cast<int>(find_shapes(frame, height, width, options).size());
}

std::vector<uint8_t> shape_count_correct(const Clips& clips, int expected,
                                         const ShapeCountOptions& options) {
  if (clips.channels != 3)
    throw Error("shape_count_correct: clips must have 3 channels (RGB), got " +
                std::to_string(clips.channels));
  if (static_cast<int64_t>(clips.frames.size()) != clips.count * clips.clip_bytes())
    throw Error("shape_count_correct: frames hold " + std::to_string(clips.frames.size()) +
                " bytes, expected count * length * height * width * 3 = " +
                std::to_string(clips.count * clips.clip_bytes()));
  std::vector<uint8_t> correct;
  correct.reserve(static_cast<size_t>(clips.count * clips.length));
  for (int64_t i = 0; i < clips.count; ++i)
    for (int64_t t = 0; t < clips.length; ++t) {
      const int n = count_shapes(clips.frame(i, t), static_cast<int>(clips.height),
                                 static_cast<int>(clips.width), options);
      correct.push_back(n == expected ? 1 : 0);
    }
  return correct;
}

}  // namespace dfb

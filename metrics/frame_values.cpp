// Per-rollout, per-frame metric values (see frame_values.h).
#include "metrics/frame_values.h"

#include <algorithm>
#include <limits>
#include <thread>

#include "base/error.h"
#include "metrics/frame_metrics.h"
#include "metrics/pixel_stats.h"

namespace dfb {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// PSNR of a frame equal to its truth is infinite; capped so a mean over frames stays finite.
constexpr double kPsnrCap = 100.0;

// The values of rollout i into row i of each table.
void rollout_values(const Clips& video, const Clips& truth, int64_t context, const FrameValueRequest& q, int64_t i,
                    std::map<std::string, ValueTable>& out) {
  const int h = static_cast<int>(video.height), w = static_cast<int>(video.width), c = static_cast<int>(video.channels);
  auto want = [&](const char* name) { return q.metrics.count(name) > 0; };
  auto row = [&](const char* name) -> std::vector<double>& { return out.at(name)[i]; };
  for (int64_t t = 0; t < video.length; ++t) {
    const uint8_t* f = video.frame(i, t);
    if (t >= context && (want("ssim") || want("psnr") || want("mse"))) {
      const uint8_t* g = truth.frame(i, t);
      if (want("mse") || want("psnr")) {
        const double mse = frame_mse(f, g, h, w, c);
        if (want("mse")) row("mse")[t] = mse;
        if (want("psnr")) row("psnr")[t] = std::min(kPsnrCap, psnr_from_mse(mse));
      }
      if (want("ssim")) row("ssim")[t] = frame_ssim(f, g, h, w, c);
    }
    if (want("mean")) row("mean")[t] = frame_mean(f, h, w, c);
    if (want("contrast")) row("contrast")[t] = frame_contrast(f, h, w, c);
    if (want("sharpness")) row("sharpness")[t] = frame_sharpness(f, h, w, c);
    if (want("flicker") && t > 0) row("flicker")[t] = frame_flicker(video.frame(i, t - 1), f, h, w, c);
    if (want("histogram_distance"))
      row("histogram_distance")[t] = histogram_distance(
          frame_histogram(f, h, w, c, static_cast<int>(q.real_histogram.size())), q.real_histogram);
  }
  const bool oracle = std::any_of(q.metrics.begin(), q.metrics.end(),
                                  [](const std::string& n) { return n.rfind("oracle_", 0) == 0; });
  if (oracle) {
    const std::vector<OracleFrame> o =
        oracle_clip(video.clip(i), video.length, h, w, truth.states.data() + i * truth.length * truth.objects * kStateDim,
                    truth.colors.data() + i * truth.objects * 3, truth.objects, q.oracle);
    for (int64_t t = 0; t < video.length; ++t) {
      const OracleFrame& x = o[t];
      const std::pair<const char*, double> values[] = {
          {"oracle_valid", x.valid},          {"oracle_count", x.count_correct},
          {"oracle_radius_error", x.radius_error}, {"oracle_color_error", x.color_error},
          {"oracle_position_error", x.position_error}, {"oracle_speed_error", x.speed_error},
          {"oracle_jump", x.jump}};
      for (const auto& [name, v] : values)
        if (want(name)) row(name)[t] = v;
    }
  }
}

}  // namespace

std::map<std::string, ValueTable> frame_values(const Clips& video, const Clips& truth, int64_t context,
                                               const FrameValueRequest& q) {
  if (video.count != truth.count || video.length != truth.length || video.frame_bytes() != truth.frame_bytes())
    throw Error("frame_values: the video and the truth differ in shape");
  if (q.metrics.count("histogram_distance") && q.real_histogram.empty())
    throw Error("frame_values: histogram_distance needs the real frames' histogram");
  std::map<std::string, ValueTable> out;
  for (const std::string& n : q.metrics)
    out[n] = ValueTable(static_cast<size_t>(video.count), std::vector<double>(static_cast<size_t>(video.length), kNaN));
  // Rollouts are independent: split them over threads; the first error is rethrown.
  const int threads = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(q.threads, video.count)));
  std::vector<std::exception_ptr> errors(threads);
  std::vector<std::thread> pool;
  for (int k = 0; k < threads; ++k)
    pool.emplace_back([&, k] {
      try {
        for (int64_t i = k; i < video.count; i += threads) rollout_values(video, truth, context, q, i, out);
      } catch (...) {
        errors[k] = std::current_exception();
      }
    });
  for (std::thread& th : pool) th.join();
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
  return out;
}

std::vector<double> pooled_histogram(const uint8_t* frames, int64_t count, int height, int width, int channels,
                                     int bins) {
  if (count < 1) throw Error("pooled_histogram: no frames");
  std::vector<double> sum(static_cast<size_t>(bins), 0.0);
  const int64_t fb = static_cast<int64_t>(height) * width * channels;
  for (int64_t i = 0; i < count; ++i) {
    const std::vector<double> h = frame_histogram(frames + i * fb, height, width, channels, bins);
    for (int b = 0; b < bins; ++b) sum[b] += h[b];
  }
  for (double& v : sum) v /= static_cast<double>(count);
  return sum;
}

}  // namespace dfb

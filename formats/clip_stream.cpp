#include "formats/clip_stream.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "base/error.h"
#include "formats/dataset_file.h"
#include "formats/h5.h"

namespace dfb {

namespace {

class FileClips : public ClipSource {
 public:
  explicit FileClips(const std::string& path) : file_(path) {
    // The layout checks of the whole-file reader: uint8 [N, L, H, W, C], every size >= 1, C 1 or 3.
    const Clips layout = frames_layout(file_, "frames");
    count = layout.count, length = layout.length, height = layout.height, width = layout.width;
    channels = layout.channels;
    file_.check_fits("frames", h5::DType::kU8, 1);  // one clip is held at a time
    clip_.resize(static_cast<size_t>(length * frame_bytes()));
  }
  void read(int64_t clip, int64_t start, int64_t frames, uint8_t* out) override {
    if (clip < 0 || clip >= count || start < 0 || frames < 0 || start + frames > length)
      throw Error(file_.path() + ": no frames [" + std::to_string(start) + ", " + std::to_string(start + frames) +
                  ") in clip " + std::to_string(clip) + " of " + std::to_string(count) + " clips of " +
                  std::to_string(length) + " frames");
    file_.read_rows("frames", h5::DType::kU8, clip, 1, clip_.data());  // one chunk: the clip
    std::memcpy(out, clip_.data() + start * frame_bytes(), static_cast<size_t>(frames * frame_bytes()));
  }

 private:
  h5::Reader file_;
  std::vector<uint8_t> clip_;
};

class MemoryClips : public ClipSource {
 public:
  explicit MemoryClips(Clips clips) : clips_(std::move(clips)) {
    count = clips_.count, length = clips_.length, height = clips_.height, width = clips_.width,
    channels = clips_.channels;
  }
  void read(int64_t clip, int64_t start, int64_t frames, uint8_t* out) override {
    if (clip < 0 || clip >= count || start < 0 || frames < 0 || start + frames > length)
      throw Error("clips in memory: no frames [" + std::to_string(start) + ", " + std::to_string(start + frames) +
                  ") in clip " + std::to_string(clip));
    std::memcpy(out, clips_.frame(clip, start), static_cast<size_t>(frames * frame_bytes()));
  }

 private:
  Clips clips_;
};

}  // namespace

std::unique_ptr<ClipSource> open_clip_file(const std::string& path) { return std::make_unique<FileClips>(path); }
std::unique_ptr<ClipSource> clips_in_memory(Clips clips) { return std::make_unique<MemoryClips>(std::move(clips)); }

BatchPrefetcher::BatchPrefetcher(ClipSource& source, int64_t window, Plan plan, int64_t first, int64_t last, int depth)
    : source_(source),
      window_(window),
      plan_(std::move(plan)),
      next_read_(first),
      last_(last),
      depth_(static_cast<size_t>(std::max(1, depth))) {
  thread_ = std::thread([this] { run(); });
}

BatchPrefetcher::~BatchPrefetcher() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void BatchPrefetcher::run() {
  try {
    for (;;) {
      int64_t step = 0;
      {
        std::unique_lock<std::mutex> lock(mu_);
        changed_.wait(lock, [&] { return stop_ || ready_.size() < depth_; });
        if (stop_ || next_read_ >= last_) return;
        step = next_read_++;
      }
      const std::vector<ClipWindow> windows = plan_(step);
      const int64_t bytes = window_ * source_.frame_bytes();
      std::vector<uint8_t> batch(static_cast<size_t>(bytes) * windows.size());
      for (size_t b = 0; b < windows.size(); ++b)
        source_.read(windows[b].clip, windows[b].start, window_, batch.data() + b * bytes);
      {
        std::lock_guard<std::mutex> lock(mu_);
        ready_.emplace_back(step, std::move(batch));
      }
      changed_.notify_all();
    }
  } catch (...) {
    std::lock_guard<std::mutex> lock(mu_);
    error_ = std::current_exception();
    changed_.notify_all();
  }
}

std::vector<uint8_t> BatchPrefetcher::take(int64_t step) {
  const auto t0 = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait(lock, [&] { return error_ || !ready_.empty(); });
  waited_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (ready_.empty()) std::rethrow_exception(error_);
  if (ready_.front().first != step)
    throw Error("training data: batch of step " + std::to_string(ready_.front().first) + " ready, step " +
                std::to_string(step) + " asked for (steps must be taken in order)");
  std::vector<uint8_t> batch = std::move(ready_.front().second);
  ready_.pop_front();
  lock.unlock();
  changed_.notify_all();
  return batch;
}

}  // namespace dfb

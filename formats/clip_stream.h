// Training data without loading it whole: random access to clips by index, from a dataset
// file (HDF5, read clip by clip, so memory stays bounded by what is in flight) or from clips
// in memory (procedural data), and a prefetcher that reads the batches of the coming training
// steps on a background thread while the current step computes. Torch-free.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "formats/clips.h"

namespace dfb {

class ClipSource {
 public:
  virtual ~ClipSource() = default;
  int64_t count = 0, length = 0, height = 0, width = 0, channels = 0;
  int64_t frame_bytes() const { return height * width * channels; }
  // Frames [start, start + frames) of clip `clip` into `out` (frames · frame_bytes() bytes).
  // Throws dfb::Error naming the file and clip on a read failure or an index out of range.
  virtual void read(int64_t clip, int64_t start, int64_t frames, uint8_t* out) = 0;
};

// A dataset file's /frames, streamed: only the header is read here.
std::unique_ptr<ClipSource> open_clip_file(const std::string& path);
std::unique_ptr<ClipSource> clips_in_memory(Clips clips);

// One training window: clip index and first frame.
struct ClipWindow {
  int64_t clip = 0, start = 0;
};

class BatchPrefetcher {
 public:
  using Plan = std::function<std::vector<ClipWindow>(int64_t step)>;
  // Reads the batches of steps [first, last) in order, `window` frames per entry of plan(step),
  // at most `depth` batches ahead of take().
  BatchPrefetcher(ClipSource& source, int64_t window, Plan plan, int64_t first, int64_t last, int depth = 3);
  ~BatchPrefetcher();  // stops the reader and waits for it
  BatchPrefetcher(const BatchPrefetcher&) = delete;
  BatchPrefetcher& operator=(const BatchPrefetcher&) = delete;

  // The batch of `step`, [entries, window, H, W, C] bytes, waiting for it if it is not read
  // yet. Steps are taken in order; an error of the reader is thrown here.
  std::vector<uint8_t> take(int64_t step);
  double waited_seconds() const { return waited_; }  // time take() spent waiting for data

 private:
  void run();

  ClipSource& source_;
  int64_t window_;
  Plan plan_;
  int64_t next_read_, last_;
  size_t depth_;
  std::deque<std::pair<int64_t, std::vector<uint8_t>>> ready_;
  std::exception_ptr error_;
  bool stop_ = false;
  double waited_ = 0;
  std::mutex mu_;
  std::condition_variable changed_;
  std::thread thread_;
};

}  // namespace dfb

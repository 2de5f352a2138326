// Progress of long work on stderr: a bar with rate and ETA on a terminal, a plain
// line every `interval` seconds otherwise (logs, CI).
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace dfb {

class Progress {
 public:
  Progress(std::string label, int64_t total, int64_t start = 0, double interval_seconds = 10.0);
  ~Progress();
  // `done` items of `total`; `status` is shown after the counts (e.g. "loss 0.031").
  void update(int64_t done, const std::string& status = "");
  void finish(const std::string& status = "");

 private:
  void draw(const std::string& status, bool final_line);

  std::string label_;
  int64_t total_, start_, done_, drawn_ = -1;  // drawn_: done_ at the last plain line
  double interval_;
  bool tty_, finished_ = false;
  std::chrono::steady_clock::time_point begin_, last_;
};

// "1m05s", "3.2s", "2h03m"
std::string format_seconds(double seconds);
// Seconds since `t0` on the steady clock.
double seconds_since(std::chrono::steady_clock::time_point t0);

}  // namespace dfb

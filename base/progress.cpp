#include "base/progress.h"

#include <unistd.h>

#include <cstdio>

namespace dfb {

std::string format_seconds(double s) {
  char buf[32];
  if (s < 60) std::snprintf(buf, sizeof buf, "%.1fs", s);
  else if (s < 3600) std::snprintf(buf, sizeof buf, "%dm%02ds", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
  else std::snprintf(buf, sizeof buf, "%dh%02dm", static_cast<int>(s) / 3600, (static_cast<int>(s) / 60) % 60);
  return buf;
}

Progress::Progress(std::string label, int64_t total, int64_t start, double interval_seconds)
    : label_(std::move(label)),
      total_(total),
      start_(start),
      done_(start),
      interval_(interval_seconds),
      tty_(::isatty(::fileno(stderr)) != 0),
      begin_(std::chrono::steady_clock::now()),
      last_(begin_) {}

Progress::~Progress() {
  if (tty_ && !finished_) std::fputc('\n', stderr);
}

void Progress::update(int64_t done, const std::string& status) {
  done_ = done;
  const auto now = std::chrono::steady_clock::now();
  const double since = std::chrono::duration<double>(now - last_).count();
  if (tty_ ? since < 0.1 : since < interval_) return;
  last_ = now;
  draw(status, false);
}

void Progress::finish(const std::string& status) {
  if (finished_) return;
  if (tty_ || drawn_ != done_ || !status.empty()) draw(status, true);  // no second identical plain line
  finished_ = true;
}

void Progress::draw(const std::string& status, bool final_line) {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin_).count();
  const double rate = elapsed > 0 ? static_cast<double>(done_ - start_) / elapsed : 0;
  const double eta = rate > 0 ? static_cast<double>(total_ - done_) / rate : 0;
  char counts[160];
  std::snprintf(counts, sizeof counts, "%lld/%lld  %.2f/s  elapsed %s  eta %s", static_cast<long long>(done_),
                static_cast<long long>(total_), rate, format_seconds(elapsed).c_str(), format_seconds(eta).c_str());
  if (tty_) {
    const int width = 24;
    const int filled = total_ > 0 ? static_cast<int>(width * done_ / total_) : width;
    std::string bar(static_cast<size_t>(filled), '#');
    bar.resize(width, '.');
    std::fprintf(stderr, "\r\033[K%s [%s] %s  %s", label_.c_str(), bar.c_str(), counts, status.c_str());
    if (final_line) std::fputc('\n', stderr);
  } else {
    std::fprintf(stderr, "%s %s  %s\n", label_.c_str(), counts, status.c_str());
    drawn_ = done_;
  }
  std::fflush(stderr);
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace dfb

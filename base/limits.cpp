#include "base/limits.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "base/error.h"

namespace dfb {
namespace {

std::atomic<int64_t> g_limit{0};

int64_t physical_memory() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return int64_t{1} << 40;  // unknown: 1 TiB
  return static_cast<int64_t>(pages) * static_cast<int64_t>(page);
}

int64_t env_limit() {
  const char* s = std::getenv("DFB_MAX_READ_BYTES");
  if (!s || !*s) return 0;
  char* end = nullptr;
  const long long v = std::strtoll(s, &end, 10);
  if (*end != '\0' || v <= 0)
    throw Error(std::string("DFB_MAX_READ_BYTES is '") + s + "'; it must be a positive number of bytes");
  return v;
}

}  // namespace

int64_t read_limit_bytes() {
  if (const int64_t set = g_limit.load()) return set;
  if (const int64_t env = env_limit()) return env;
  return physical_memory();
}

void set_read_limit_bytes(int64_t n) { g_limit.store(n > 0 ? n : 0); }

int64_t checked_bytes(const std::vector<int64_t>& dims, int64_t element_bytes) {
  if (element_bytes < 0) return -1;
  int64_t n = element_bytes;
  for (int64_t d : dims) {
    if (d < 0) return -1;
    if (d != 0 && n > std::numeric_limits<int64_t>::max() / d) return -1;
    n *= d;
  }
  return n;
}

std::string byte_size_text(int64_t bytes) {
  if (bytes < 0) return "more than 9.2e18 bytes";
  char buf[64];
  const double b = static_cast<double>(bytes);
  if (b >= 1e18) std::snprintf(buf, sizeof buf, "%.3g EB", b / 1e18);
  else if (b >= 1e15) std::snprintf(buf, sizeof buf, "%.3g PB", b / 1e15);
  else if (b >= 1e12) std::snprintf(buf, sizeof buf, "%.3g TB", b / 1e12);
  else if (b >= 1e9) std::snprintf(buf, sizeof buf, "%.3g GB", b / 1e9);
  else if (b >= 1e6) std::snprintf(buf, sizeof buf, "%.3g MB", b / 1e6);
  else if (b >= 1e3) std::snprintf(buf, sizeof buf, "%.3g kB", b / 1e3);
  else std::snprintf(buf, sizeof buf, "%lld bytes", static_cast<long long>(bytes));
  return buf;
}

void check_read_size(const std::string& what, const std::string& shape_text, int64_t bytes) {
  const int64_t limit = read_limit_bytes();
  if (bytes >= 0 && bytes <= limit) return;
  throw Error(what + " declares " + shape_text + ": " + byte_size_text(bytes) + ", more than the read limit of " +
              byte_size_text(limit) + " (this machine's memory; raise it with --max-read-bytes or DFB_MAX_READ_BYTES)" +
              "; is the file damaged?");
}

}  // namespace dfb

#include "base/files.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/error.h"
#include "base/limits.h"

namespace dfb {

namespace {

// This machine's name as temporary names carry it: letters, digits, '.' and '-' only.
const std::string& host_tag() {
  static const std::string tag = [] {
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0) return std::string("localhost");
    std::string t;
    for (const char* c = name; *c; ++c)
      if (std::isalnum(static_cast<unsigned char>(*c)) || *c == '.' || *c == '-') t += *c;
    return t.empty() ? std::string("localhost") : t;
  }();
  return tag;
}

}  // namespace

std::string temporary_path(const std::string& path) {
  return path + ".tmp-" + std::to_string(::getpid()) + "@" + host_tag();
}

void write_file_atomic(const std::string& path, const std::string& content) {
  remove_stale_temporaries_of(path);
  const std::string tmp = temporary_path(path);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) throw Error("cannot write '" + path + "': " + std::strerror(errno));
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      std::remove(tmp.c_str());
      throw Error("cannot write '" + path + "': " + std::strerror(err));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    throw Error("cannot write '" + path + "': " + std::strerror(err));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    throw Error("cannot rename onto '" + path + "': " + std::strerror(err));
  }
}

void check_text_file_size(const std::string& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec) check_read_size(path, std::to_string(size) + " bytes on disk", static_cast<int64_t>(size));
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("no such file: " + path);
  check_text_file_size(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void make_dirs(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) throw Error("cannot create directory '" + path + "': " + ec.message());
}

namespace {

// Whether `pid` names a process that may still write: alive and not a zombie. A writer killed
// while its parent was killed too is reparented, and until something reaps it (a container's
// init may never) kill(pid, 0) still succeeds; /proc tells the zombie apart.
bool may_still_write(pid_t pid) {
  if (::kill(pid, 0) != 0 && errno == ESRCH) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!stat || !std::getline(stat, line)) return true;  // no /proc: assume it lives
  const size_t paren = line.rfind(')');  // the command name may hold spaces and parentheses
  if (paren == std::string::npos || paren + 2 >= line.size()) return true;
  const char state = line[paren + 2];
  return state != 'Z' && state != 'X';
}

// Whether `name` is "<prefix>.tmp-<pid>[@<host>]" (any prefix when `prefix` is null) of a writer
// on this machine that is gone. A temporary of another machine (a shared file system) is never
// judged: its writer's PID means nothing here.
bool stale_temporary(const std::string& name, const std::string* prefix) {
  const size_t at = name.rfind(".tmp-");
  if (at == std::string::npos || at + 5 >= name.size()) return false;
  if (prefix && name.compare(0, at, *prefix) != 0) return false;
  if (prefix && at != prefix->size()) return false;
  std::string digits = name.substr(at + 5);
  if (const size_t h = digits.find('@'); h != std::string::npos) {
    if (digits.substr(h + 1) != host_tag()) return false;
    digits.resize(h);
  }
  if (digits.empty()) return false;
  if (digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 9) return false;
  const pid_t pid = static_cast<pid_t>(std::stol(digits));
  return pid != ::getpid() && !may_still_write(pid);  // else its writer may still be at work
}

}  // namespace

int remove_stale_temporaries(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return 0;
  int removed = 0;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    if (stale_temporary(it->path().filename().string(), nullptr) && fs::remove(it->path(), ec)) ++removed;
  }
  return removed;
}

int remove_stale_temporaries_of(const std::string& target) {
  namespace fs = std::filesystem;
  const fs::path t(target);
  const fs::path dir = t.has_parent_path() ? t.parent_path() : fs::path(".");
  const std::string prefix = t.filename().string();
  std::error_code ec;
  int removed = 0;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    if (stale_temporary(it->path().filename().string(), &prefix) && fs::remove(it->path(), ec)) ++removed;
  }
  return removed;
}

}  // namespace dfb

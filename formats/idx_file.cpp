#include "formats/idx_file.h"

#include <zlib.h>

#include <algorithm>
#include <filesystem>

#include "base/error.h"
#include "base/limits.h"
#include "formats/h5.h"

namespace dfb {

int64_t IdxArray::item_bytes() const {
  int64_t n = 1;
  for (size_t i = 1; i < dims.size(); ++i) n *= dims[i];
  return n;
}

namespace {

// gzread reads plain files too, so one path serves both forms.
class GzFile {
 public:
  explicit GzFile(const std::string& path) : path_(path), f_(gzopen(path.c_str(), "rb")) {
    if (!f_) throw Error(path + ": cannot open");
    gzbuffer(f_, 1 << 18);
  }
  ~GzFile() { gzclose(f_); }
  GzFile(const GzFile&) = delete;
  GzFile& operator=(const GzFile&) = delete;
  // Exactly `bytes` bytes, or an error saying how many were there.
  void read(void* out, size_t bytes, const char* what) {
    size_t done = 0;
    while (done < bytes) {
      const unsigned chunk = static_cast<unsigned>(std::min<size_t>(bytes - done, 1u << 30));
      const int n = gzread(f_, static_cast<uint8_t*>(out) + done, chunk);
      if (n < 0) {
        int code = 0;
        throw Error(path_ + ": cannot read the " + what + " (" + gzerror(f_, &code) + "; a damaged gzip file?)");
      }
      if (n == 0)
        throw Error(path_ + ": ends after " + std::to_string(done) + " of the " + std::to_string(bytes) + " bytes of its " +
                    what + " (a truncated download?)");
      done += static_cast<size_t>(n);
    }
  }

 private:
  std::string path_;
  gzFile f_;
};

}  // namespace

IdxArray read_idx(const std::string& path) {
  if (!std::filesystem::exists(path)) throw Error("no such file: " + path);
  GzFile f(path);
  uint8_t magic[4];
  f.read(magic, 4, "header");
  if (magic[0] != 0 || magic[1] != 0 || magic[3] < 1 || magic[3] > 4)
    throw Error(path + ": not an idx file (its first bytes are not 0, 0, type, dimensions)");
  if (magic[2] != 0x08)
    throw Error(path + ": holds idx type 0x" + std::to_string(magic[2]) + "; only unsigned bytes (0x08) are read");
  IdxArray a;
  for (int i = 0; i < magic[3]; ++i) {
    uint8_t b[4];
    f.read(b, 4, "header");
    const int64_t d = (int64_t{b[0]} << 24) | (int64_t{b[1]} << 16) | (int64_t{b[2]} << 8) | b[3];
    if (d < 1) throw Error(path + ": dimension " + std::to_string(i) + " is " + std::to_string(d));
    a.dims.push_back(d);
  }
  const int64_t total = checked_bytes(a.dims, 1);
  check_read_size(path + ": the idx header", h5::shape_text(a.dims) + " uint8", total);
  a.data.resize(static_cast<size_t>(total));
  f.read(a.data.data(), a.data.size(), "data");
  return a;
}

}  // namespace dfb

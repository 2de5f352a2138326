// Thin, torch-free HDF5 access used by datasets, checkpoints and rollout files.
// Writing always goes to a temporary file beside the target, renamed over it on
// commit(), so a crash or full disk never leaves a half-written file behind.
// Every failure throws dfb::Error naming the file and the object.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace dfb::h5 {

enum class DType { kU8, kF32, kF64, kI64 };
const char* dtype_name(DType t);  // "uint8", "float32", "float64", "int64"
std::string shape_text(const std::vector<int64_t>& shape);  // "[4, 8, 32, 32, 3]"

class Writer {
 public:
  // Creates "<path>.tmp-<pid>" (truncating it); nothing exists at `path` until commit().
  explicit Writer(const std::string& path);
  ~Writer();  // without commit(): closes and deletes the temporary file
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // `name` is a path such as "frames" or "model/conv.weight" or "a/b/c";
  // missing groups are created. `chunk` empty = contiguous (or, when deflate > 0,
  // one chunk per index of the first axis, or several when that is under 64 KiB);
  // chunk sizes are clamped to [1, shape]. deflate 0 = no compression; arrays
  // with a zero-sized axis and scalars (shape {}) are never chunked.
  void write(const std::string& name, DType type, const void* data, const std::vector<int64_t>& shape,
             const std::vector<int64_t>& chunk = {}, int deflate = 0);
  // Attributes on "/" (the file), a group or a dataset (created before).
  void attr(const std::string& object, const std::string& key, const std::string& value);
  void attr(const std::string& object, const std::string& key, int64_t value);
  void attr(const std::string& object, const std::string& key, double value);

  // Flush, close, fsync and rename onto the target path. Throws on failure
  // (the temporary file is removed; an older file at `path` stays untouched).
  void commit();
  const std::string& path() const { return path_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string path_;
};

class Reader {
 public:
  // Throws dfb::Error: "no such file: P", or "P: not a readable HDF5 file (corrupt or truncated?)".
  explicit Reader(const std::string& path);
  ~Reader();
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  const std::string& path() const { return path_; }
  bool exists(const std::string& name) const;        // dataset or group
  bool is_dataset(const std::string& name) const;
  std::vector<std::string> list(const std::string& group) const;  // child names, sorted
  std::vector<int64_t> shape(const std::string& name) const;
  DType dtype(const std::string& name) const;         // throws for types other than the four above

  // Throws dfb::Error naming the file, the dataset and the size when reading it whole (rows < 0)
  // or `rows` rows of its first axis as `type` would take more than read_limit_bytes()
  // (base/limits.h). read_u8/f32/i64 check; callers of read() and read_rows() check before
  // they allocate.
  // Returns the element count it checked.
  int64_t check_fits(const std::string& name, DType type, int64_t rows = -1) const;
  // Whole dataset, converted to the requested type by HDF5 (e.g. stored f32 read as f64).
  void read(const std::string& name, DType type, void* out) const;
  std::vector<uint8_t> read_u8(const std::string& name) const;
  std::vector<float> read_f32(const std::string& name) const;
  std::vector<int64_t> read_i64(const std::string& name) const;
  // Rows [first, first + count) along axis 0, into out (count * row elements).
  void read_rows(const std::string& name, DType type, int64_t first, int64_t count, void* out) const;

  bool has_attr(const std::string& object, const std::string& key) const;
  std::string attr_string(const std::string& object, const std::string& key) const;
  int64_t attr_int(const std::string& object, const std::string& key) const;
  double attr_double(const std::string& object, const std::string& key) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string path_;
};

}  // namespace dfb::h5

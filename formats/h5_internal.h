// What the HDF5 reader (h5.cpp) and writer (h5_writer.cpp) share: HDF5's error printing
// silenced, one process-wide lock (HDF5 as Debian builds it is not thread-safe), owned
// handles, and type conversions. Not for use outside formats/h5*.cpp.
#pragma once
#include "formats/h5.h"

#include <fcntl.h>
#include <hdf5.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <utility>

#include "base/error.h"

namespace dfb::h5::internal {


// Turns off HDF5's error printing (we report one line ourselves; the setting is
// per thread in thread-safe builds, so every entry point calls this) and, once,
// its exit-time cleanup: after a failed file close (e.g. a full disk) HDF5 1.10
// keeps a freed file in its ID table and crashes at exit (HDFFV-11052, fixed in
// 1.14). Every object is closed here by its Handle anyway.
inline void quiet_hdf5() {
  static const bool process = (H5dont_atexit(), true);
  thread_local const bool thread = (H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr), true);
  (void)process;
  (void)thread;
}
// Also at start-up, so that it comes before HDF5 calls made elsewhere.
// HDF5 as Debian builds it is not thread-safe: every entry point holds this lock, so a
// background reader (the training data prefetcher) and the main thread (checkpoints) can
// both use it.
inline std::recursive_mutex& hdf5_mutex() {
  static std::recursive_mutex m;
  return m;
}
struct HdfLock {
  std::lock_guard<std::recursive_mutex> guard{hdf5_mutex()};
};

inline const bool kQuietAtStartUp = (quiet_hdf5(), true);

// Owns an hid_t and closes it with the matching H5?close.
class Handle {
 public:
  Handle() = default;
  Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  ~Handle() { reset(); }
  Handle(Handle&& o) noexcept : id_(std::exchange(o.id_, -1)), close_(o.close_) {}
  Handle& operator=(Handle&& o) noexcept {
    reset();
    id_ = std::exchange(o.id_, -1);
    close_ = o.close_;
    return *this;
  }
  hid_t get() const { return id_; }
  bool ok() const { return id_ >= 0; }
  // Closes now; returns false if closing failed (e.g. a flush hit a full disk).
  bool reset() {
    bool good = true;
    if (id_ >= 0 && close_) good = close_(id_) >= 0;
    id_ = -1;
    return good;
  }

 private:
  hid_t id_ = -1;
  herr_t (*close_)(hid_t) = nullptr;
};

inline herr_t innermost_error(unsigned n, const H5E_error2_t* err, void* data) {
  if (n == 0 && err->desc) *static_cast<std::string*>(data) = err->desc;
  return 0;
}

// The most specific message on HDF5's error stack (then cleared); for a failed
// system call only its strerror part, e.g. "No space left on device".
inline std::string hdf5_detail() {
  std::string desc;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, innermost_error, &desc);
  H5Eclear2(H5E_DEFAULT);
  const std::string marker = "error message = '";
  size_t at = desc.find(marker);
  if (at != std::string::npos) {
    size_t from = at + marker.size(), to = desc.find('\'', from);
    if (to != std::string::npos) desc = desc.substr(from, to - from);
  }
  return desc.empty() ? "HDF5 error" : desc;
}

// DType is an index into these tables (kU8, kF32, kF64, kI64).
inline int index(DType t) { return static_cast<int>(t); }
inline hid_t memory_type(DType t) {
  const hid_t types[] = {H5T_NATIVE_UINT8, H5T_NATIVE_FLOAT, H5T_NATIVE_DOUBLE, H5T_NATIVE_INT64};
  return types[index(t)];
}
inline int64_t element_size(DType t) {
  const int64_t sizes[] = {1, 4, 8, 8};
  return sizes[index(t)];
}
// Little-endian standard types on disk, whatever the machine.
inline hid_t file_type(DType t) {
  const hid_t types[] = {H5T_STD_U8LE, H5T_IEEE_F32LE, H5T_IEEE_F64LE, H5T_STD_I64LE};
  return types[index(t)];
}
inline size_t dtype_size(DType t) { return t == DType::kU8 ? 1 : t == DType::kF32 ? 4 : 8; }

inline const char* class_name(H5T_class_t c) {
  static const char* const names[] = {"integer",  "float",     "time", "string",          "bitfield", "opaque",
                                      "compound", "reference", "enum", "variable-length", "array"};
  return c >= 0 && c < H5T_NCLASSES ? names[c] : "unknown";
}

// "int32", "uint16", "float16", or the class name for everything else.
inline std::string describe_type(hid_t type) {
  H5T_class_t c = H5Tget_class(type);
  std::string bits = std::to_string(8 * H5Tget_size(type));
  if (c == H5T_INTEGER) return (H5Tget_sign(type) == H5T_SGN_NONE ? "uint" : "int") + bits;
  if (c == H5T_FLOAT) return "float" + bits;
  return class_name(c);
}

inline std::string parent_dir(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

inline int64_t element_count(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

}  // namespace dfb::h5::internal

// HDF5 access through the C API (stable across HDF5 1.10 to 1.14). Every handle
// is owned by a Handle, every call is checked, and HDF5's own error printing is
// switched off so that a failure surfaces as one dfb::Error line.
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

namespace dfb::h5 {
namespace {

// Turns off HDF5's error printing (we report one line ourselves; the setting is
// per thread in thread-safe builds, so every entry point calls this) and, once,
// its exit-time cleanup: after a failed file close (e.g. a full disk) HDF5 1.10
// keeps a freed file in its ID table and crashes at exit (HDFFV-11052, fixed in
// 1.14). Every object is closed here by its Handle anyway.
void quiet_hdf5() {
  static const bool process = (H5dont_atexit(), true);
  thread_local const bool thread = (H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr), true);
  (void)process;
  (void)thread;
}
// Also at start-up, so that it comes before HDF5 calls made elsewhere.
// HDF5 as Debian builds it is not thread-safe: every entry point holds this lock, so a
// background reader (the training data prefetcher) and the main thread (checkpoints) can
// both use it.
std::recursive_mutex& hdf5_mutex() {
  static std::recursive_mutex m;
  return m;
}
struct HdfLock {
  std::lock_guard<std::recursive_mutex> guard{hdf5_mutex()};
};

const bool kQuietAtStartUp = (quiet_hdf5(), true);

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

herr_t innermost_error(unsigned n, const H5E_error2_t* err, void* data) {
  if (n == 0 && err->desc) *static_cast<std::string*>(data) = err->desc;
  return 0;
}

// The most specific message on HDF5's error stack (then cleared); for a failed
// system call only its strerror part, e.g. "No space left on device".
std::string hdf5_detail() {
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
int index(DType t) { return static_cast<int>(t); }
hid_t memory_type(DType t) {
  const hid_t types[] = {H5T_NATIVE_UINT8, H5T_NATIVE_FLOAT, H5T_NATIVE_DOUBLE, H5T_NATIVE_INT64};
  return types[index(t)];
}
// Little-endian standard types on disk, whatever the machine.
hid_t file_type(DType t) {
  const hid_t types[] = {H5T_STD_U8LE, H5T_IEEE_F32LE, H5T_IEEE_F64LE, H5T_STD_I64LE};
  return types[index(t)];
}
size_t dtype_size(DType t) { return t == DType::kU8 ? 1 : t == DType::kF32 ? 4 : 8; }

const char* class_name(H5T_class_t c) {
  static const char* const names[] = {"integer",  "float",     "time", "string",          "bitfield", "opaque",
                                      "compound", "reference", "enum", "variable-length", "array"};
  return c >= 0 && c < H5T_NCLASSES ? names[c] : "unknown";
}

// "int32", "uint16", "float16", or the class name for everything else.
std::string describe_type(hid_t type) {
  H5T_class_t c = H5Tget_class(type);
  std::string bits = std::to_string(8 * H5Tget_size(type));
  if (c == H5T_INTEGER) return (H5Tget_sign(type) == H5T_SGN_NONE ? "uint" : "int") + bits;
  if (c == H5T_FLOAT) return "float" + bits;
  return class_name(c);
}

std::string parent_dir(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

int64_t element_count(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

}  // namespace

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

const char* dtype_name(DType t) {
  static const char* const names[] = {"uint8", "float32", "float64", "int64"};
  return names[index(t)];
}

// ---------------------------------------------------------------- Writer

namespace {

// Chunk dims for `shape`: `chunk` clamped to [1, shape], or by default whole rows
// of the first axis, as many as make at least 64 KiB (one row when rows are larger).
std::vector<hsize_t> chunk_dims(const std::vector<int64_t>& shape, const std::vector<int64_t>& chunk, DType type) {
  std::vector<hsize_t> cdims(shape.size());
  int64_t row_bytes = static_cast<int64_t>(dtype_size(type));
  for (size_t i = 1; i < shape.size(); ++i) row_bytes *= shape[i];
  for (size_t i = 0; i < shape.size(); ++i) {
    int64_t c = !chunk.empty() ? chunk[i] : i > 0 ? shape[i] : (65536 + row_bytes - 1) / row_bytes;
    cdims[i] = static_cast<hsize_t>(std::clamp<int64_t>(c, 1, shape[i]));
  }
  return cdims;
}

// Creates and writes one dataset; returns "" or HDF5's reason for failing.
// Every handle is closed before returning, so the file can be closed after an error.
std::string create_dataset(hid_t file, const std::string& name, DType type, const void* data,
                           const std::vector<hsize_t>& dims, const std::vector<hsize_t>& chunk, int deflate) {
  Handle space = dims.empty() ? Handle(H5Screate(H5S_SCALAR), H5Sclose)
                              : Handle(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
  Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  Handle lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  // No modification times in object headers: the same content gives the same bytes.
  if (!space.ok() || !dcpl.ok() || !lcpl.ok() || H5Pset_create_intermediate_group(lcpl.get(), 1) < 0 ||
      H5Pset_obj_track_times(dcpl.get(), 0) < 0)
    return hdf5_detail();
  if (!chunk.empty() && (H5Pset_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data()) < 0 ||
                         (deflate > 0 && H5Pset_deflate(dcpl.get(), static_cast<unsigned>(deflate)) < 0)))
    return hdf5_detail();
  Handle ds(H5Dcreate2(file, name.c_str(), file_type(type), space.get(), lcpl.get(), dcpl.get(), H5P_DEFAULT),
            H5Dclose);
  if (!ds.ok()) return "cannot create it (" + hdf5_detail() + ")";
  if (data && H5Dwrite(ds.get(), memory_type(type), H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) {
    std::string detail = hdf5_detail();
    ds.reset();
    return detail;
  }
  return ds.reset() ? "" : hdf5_detail();
}

// Replaces a scalar attribute of an existing object; returns "" or HDF5's reason for failing.
std::string write_attr(hid_t file, const std::string& object, const std::string& key, hid_t disk_type, hid_t mem_type,
                       const void* value) {
  Handle obj(H5Oopen(file, object.c_str(), H5P_DEFAULT), H5Oclose);
  if (!obj.ok()) return hdf5_detail();
  if (H5Aexists(obj.get(), key.c_str()) > 0 && H5Adelete(obj.get(), key.c_str()) < 0) return hdf5_detail();
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle a(H5Acreate2(obj.get(), key.c_str(), disk_type, space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  if (!a.ok() || H5Awrite(a.get(), mem_type, value) < 0) {
    std::string detail = hdf5_detail();
    a.reset();
    return detail;
  }
  return a.reset() ? "" : hdf5_detail();
}

}  // namespace

struct Writer::Impl {
  std::string path, tmp;
  Handle file;
  bool done = false;  // committed, or abandoned after an error

  void check_open() const {
    quiet_hdf5();
    if (done) throw Error("cannot write '" + path + "': the file was already committed or abandoned");
  }
  // Abandons the temporary file and throws "cannot write '<path>': <what>".
  [[noreturn]] void fail(const std::string& what) {
    file.reset();
    std::remove(tmp.c_str());
    done = true;
    throw Error("cannot write '" + path + "': " + what);
  }
  // Replaces attribute `key` of `object` with a scalar of `disk_type` holding `value`.
  void attr(const std::string& object, const std::string& key, hid_t disk_type, hid_t mem_type, const void* value) {
    check_open();
    if (H5Oexists_by_name(file.get(), object.c_str(), H5P_DEFAULT) <= 0) {  // a caller bug: the file stays usable
      H5Eclear2(H5E_DEFAULT);
      throw Error("cannot write '" + path + "': attribute '" + key + "': no object '" + object + "'");
    }
    std::string error = write_attr(file.get(), object, key, disk_type, mem_type, value);
    if (!error.empty()) fail("attribute '" + key + "' of '" + object + "': " + error);
  }
};

Writer::Writer(const std::string& path) : impl_(std::make_unique<Impl>()), path_(path) {
  const HdfLock lock;
  quiet_hdf5();
  impl_->path = path;
  impl_->tmp = path + ".tmp-" + std::to_string(static_cast<long>(getpid()));
  Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_STRONG);
  impl_->file = Handle(H5Fcreate(impl_->tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()), H5Fclose);
  if (!impl_->file.ok()) impl_->fail("cannot create '" + impl_->tmp + "': " + hdf5_detail());
}

Writer::~Writer() {
  quiet_hdf5();
  if (!impl_->done) {
    impl_->file.reset();
    std::remove(impl_->tmp.c_str());
  }
}

void Writer::write(const std::string& name, DType type, const void* data, const std::vector<int64_t>& shape,
                   const std::vector<int64_t>& chunk, int deflate) {
  const HdfLock lock;
  Impl& im = *impl_;
  im.check_open();
  // Bad arguments are caller bugs: they throw but leave the file usable.
  const std::string what = "cannot write '" + path_ + "': dataset '" + name + "': ";
  if (name.empty() || name == "/") throw Error("cannot write '" + path_ + "': empty dataset name");
  for (int64_t d : shape)
    if (d < 0) throw Error(what + "negative size in shape " + shape_text(shape));
  if (deflate < 0 || deflate > 9) throw Error(what + "deflate level must be 0..9, got " + std::to_string(deflate));
  if (!chunk.empty() && chunk.size() != shape.size())
    throw Error(what + "chunk " + shape_text(chunk) + " does not match shape " + shape_text(shape));
  const int64_t count = element_count(shape);
  if (count > 0 && data == nullptr) throw Error(what + "no data");

  // Chunking (which compression needs) only for non-empty arrays of rank >= 1.
  std::vector<hsize_t> cdims;
  if (!shape.empty() && count > 0 && (deflate > 0 || !chunk.empty())) {
    cdims = chunk_dims(shape, chunk, type);
    uint64_t chunk_bytes = dtype_size(type);
    for (hsize_t c : cdims) chunk_bytes *= c;
    if (chunk_bytes >= (uint64_t{1} << 32)) throw Error(what + "chunks must be smaller than 4 GiB");
  }
  std::string error = create_dataset(im.file.get(), name, type, count > 0 ? data : nullptr,
                                     std::vector<hsize_t>(shape.begin(), shape.end()), cdims, deflate);
  if (!error.empty()) im.fail("dataset '" + name + "': " + error);
}

void Writer::attr(const std::string& object, const std::string& key, const std::string& value) {
  const HdfLock lock;
  Handle str(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(str.get(), H5T_VARIABLE);
  H5Tset_cset(str.get(), H5T_CSET_UTF8);
  const char* p = value.c_str();
  impl_->attr(object, key, str.get(), str.get(), &p);
}

void Writer::attr(const std::string& object, const std::string& key, int64_t value) {
  const HdfLock lock;
  impl_->attr(object, key, H5T_STD_I64LE, H5T_NATIVE_INT64, &value);
}

void Writer::attr(const std::string& object, const std::string& key, double value) {
  const HdfLock lock;
  impl_->attr(object, key, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value);
}

void Writer::commit() {
  const HdfLock lock;
  Impl& im = *impl_;
  im.check_open();
  if (H5Fflush(im.file.get(), H5F_SCOPE_GLOBAL) < 0 || !im.file.reset()) im.fail(hdf5_detail());
  int fd = ::open(im.tmp.c_str(), O_RDONLY);
  bool synced = fd >= 0 && ::fsync(fd) == 0;
  if (fd >= 0) ::close(fd);
  if (!synced) im.fail("cannot fsync '" + im.tmp + "'");
  if (std::rename(im.tmp.c_str(), path_.c_str()) != 0) im.fail("cannot rename '" + im.tmp + "' onto it");
  im.done = true;
  int dir = ::open(parent_dir(path_).c_str(), O_RDONLY | O_DIRECTORY);  // best effort
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

// ---------------------------------------------------------------- Reader

struct Reader::Impl {
  Handle file;
  // Opens an existing dataset or throws "P: no dataset 'name'".
  Handle dataset(const Reader& r, const std::string& name) const {
    if (!r.is_dataset(name)) throw Error(r.path() + ": no dataset '" + name + "'");
    Handle ds(H5Dopen2(file.get(), name.c_str(), H5P_DEFAULT), H5Dclose);
    if (!ds.ok()) throw Error(r.path() + ": cannot open dataset '" + name + "': " + hdf5_detail());
    return ds;
  }
  // Opens attribute `key` of `object`, or throws naming both.
  Handle attribute(const Reader& r, const std::string& object, const std::string& key) const {
    if (!r.exists(object)) throw Error(r.path() + ": no object '" + object + "' (looking for attribute '" + key + "')");
    Handle obj(H5Oopen(file.get(), object.c_str(), H5P_DEFAULT), H5Oclose);
    if (!obj.ok() || H5Aexists(obj.get(), key.c_str()) <= 0) {
      H5Eclear2(H5E_DEFAULT);
      throw Error(r.path() + ": '" + object + "' has no attribute '" + key + "'");
    }
    Handle attr(H5Aopen(obj.get(), key.c_str(), H5P_DEFAULT), H5Aclose);
    if (!attr.ok())
      throw Error(r.path() + ": cannot open attribute '" + key + "' of '" + object + "': " + hdf5_detail());
    Handle space(H5Aget_space(attr.get()), H5Sclose);
    if (H5Sget_simple_extent_npoints(space.get()) != 1)
      throw Error(r.path() + ": attribute '" + key + "' of '" + object + "' is not a single value");
    return attr;
  }
};

Reader::Reader(const std::string& path) : impl_(std::make_unique<Impl>()), path_(path) {
  const HdfLock lock;
  quiet_hdf5();
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) throw Error("no such file: " + path);
  impl_->file = Handle(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!impl_->file.ok()) {
    H5Eclear2(H5E_DEFAULT);
    throw Error(path + ": not a readable HDF5 file (corrupt or truncated?)");
  }
}

Reader::~Reader() {
  const HdfLock lock;
  impl_.reset();  // its handles close under the lock
}

// Every Reader method passes through here (or the constructor).
bool Reader::exists(const std::string& name) const {
  const HdfLock lock;
  quiet_hdf5();
  if (name == "/") return true;
  if (name.empty()) return false;
  // H5Lexists requires every intermediate link to exist, so walk the path.
  std::string prefix;
  size_t from = 0;
  while (from <= name.size()) {
    size_t slash = std::min(name.find('/', from), name.size());
    if (slash > from) {
      prefix += "/" + name.substr(from, slash - from);
      if (H5Lexists(impl_->file.get(), prefix.c_str(), H5P_DEFAULT) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return false;
      }
    }
    from = slash + 1;
  }
  bool found = H5Oexists_by_name(impl_->file.get(), prefix.c_str(), H5P_DEFAULT) > 0;
  H5Eclear2(H5E_DEFAULT);
  return found;
}

bool Reader::is_dataset(const std::string& name) const {
  const HdfLock lock;
  if (!exists(name)) return false;
  Handle obj(H5Oopen(impl_->file.get(), name.c_str(), H5P_DEFAULT), H5Oclose);
  H5Eclear2(H5E_DEFAULT);
  return obj.ok() && H5Iget_type(obj.get()) == H5I_DATASET;
}

std::vector<std::string> Reader::list(const std::string& group) const {
  const HdfLock lock;
  Handle g;
  if (exists(group)) g = Handle(H5Gopen2(impl_->file.get(), group.c_str(), H5P_DEFAULT), H5Gclose);
  H5Eclear2(H5E_DEFAULT);
  if (!g.ok()) throw Error(path_ + ": no group '" + group + "'");
  H5G_info_t info;
  if (H5Gget_info(g.get(), &info) < 0) throw Error(path_ + ": cannot list '" + group + "': " + hdf5_detail());
  std::vector<std::string> names;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    ssize_t n = H5Lget_name_by_idx(g.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    if (n < 0) throw Error(path_ + ": cannot list '" + group + "': " + hdf5_detail());
    std::string s(static_cast<size_t>(n) + 1, '\0');
    H5Lget_name_by_idx(g.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, s.data(), s.size(), H5P_DEFAULT);
    s.resize(static_cast<size_t>(n));
    names.push_back(s);
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<int64_t> Reader::shape(const std::string& name) const {
  const HdfLock lock;
  Handle ds = impl_->dataset(*this, name);
  Handle space(H5Dget_space(ds.get()), H5Sclose);
  int rank = space.ok() ? H5Sget_simple_extent_ndims(space.get()) : -1;
  if (rank < 0) throw Error(path_ + ": cannot read the shape of '" + name + "': " + hdf5_detail());
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  return std::vector<int64_t>(dims.begin(), dims.end());
}

DType Reader::dtype(const std::string& name) const {
  const HdfLock lock;
  Handle ds = impl_->dataset(*this, name);
  Handle type(H5Dget_type(ds.get()), H5Tclose);
  H5T_class_t c = H5Tget_class(type.get());
  size_t size = H5Tget_size(type.get());
  if (c == H5T_INTEGER && size == 1 && H5Tget_sign(type.get()) == H5T_SGN_NONE) return DType::kU8;
  if (c == H5T_INTEGER && size == 8 && H5Tget_sign(type.get()) == H5T_SGN_2) return DType::kI64;
  if (c == H5T_FLOAT && size == 4) return DType::kF32;
  if (c == H5T_FLOAT && size == 8) return DType::kF64;
  throw Error(path_ + ": dataset '" + name + "' has type " + describe_type(type.get()) + " (class " + class_name(c) +
              "); dfbench reads uint8, float32, float64 and int64");
}

void Reader::read(const std::string& name, DType type, void* out) const {
  const HdfLock lock;
  Handle ds = impl_->dataset(*this, name);
  Handle space(H5Dget_space(ds.get()), H5Sclose);
  if (H5Sget_simple_extent_npoints(space.get()) == 0) return;
  if (H5Dread(ds.get(), memory_type(type), H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0)
    throw Error(path_ + ": cannot read dataset '" + name + "' as " + dtype_name(type) + ": " + hdf5_detail());
}

namespace {
template <class T>
std::vector<T> read_all(const Reader& r, const std::string& name, DType type) {
  std::vector<T> v(static_cast<size_t>(element_count(r.shape(name))));
  r.read(name, type, v.data());
  return v;
}
}  // namespace

std::vector<uint8_t> Reader::read_u8(const std::string& name) const {
  const HdfLock lock;
  return read_all<uint8_t>(*this, name, DType::kU8);
}
std::vector<float> Reader::read_f32(const std::string& name) const { return read_all<float>(*this, name, DType::kF32); }
std::vector<int64_t> Reader::read_i64(const std::string& name) const {
  const HdfLock lock;
  return read_all<int64_t>(*this, name, DType::kI64);
}

void Reader::read_rows(const std::string& name, DType type, int64_t first, int64_t count, void* out) const {
  const HdfLock lock;
  std::vector<int64_t> dims = shape(name);
  if (dims.empty()) throw Error(path_ + ": dataset '" + name + "' is a scalar; it has no rows");
  if (first < 0 || count < 0 || first > dims[0] - count)
    throw Error(path_ + ": rows [" + std::to_string(first) + ", " + std::to_string(first + count) +
                ") are out of range for dataset '" + name + "' with " + std::to_string(dims[0]) + " rows");
  if (count == 0 || element_count(dims) == 0) return;
  Handle ds = impl_->dataset(*this, name);
  Handle file_space(H5Dget_space(ds.get()), H5Sclose);
  std::vector<hsize_t> start(dims.size(), 0), extent(dims.begin(), dims.end());
  start[0] = static_cast<hsize_t>(first);
  extent[0] = static_cast<hsize_t>(count);
  Handle mem_space(H5Screate_simple(static_cast<int>(extent.size()), extent.data(), nullptr), H5Sclose);
  if (H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr, extent.data(), nullptr) < 0 ||
      H5Dread(ds.get(), memory_type(type), mem_space.get(), file_space.get(), H5P_DEFAULT, out) < 0)
    throw Error(path_ + ": cannot read rows of dataset '" + name + "': " + hdf5_detail());
}

bool Reader::has_attr(const std::string& object, const std::string& key) const {
  const HdfLock lock;
  if (!exists(object)) return false;
  Handle obj(H5Oopen(impl_->file.get(), object.c_str(), H5P_DEFAULT), H5Oclose);
  bool found = obj.ok() && H5Aexists(obj.get(), key.c_str()) > 0;
  H5Eclear2(H5E_DEFAULT);
  return found;
}

std::string Reader::attr_string(const std::string& object, const std::string& key) const {
  const HdfLock lock;
  Handle attr = impl_->attribute(*this, object, key);
  Handle type(H5Aget_type(attr.get()), H5Tclose);
  if (H5Tget_class(type.get()) != H5T_STRING)
    throw Error(path_ + ": attribute '" + key + "' of '" + object + "' is " + describe_type(type.get()) +
                ", expected a string");
  const std::string where = path_ + ": cannot read attribute '" + key + "' of '" + object + "': ";
  Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_cset(mem.get(), H5Tget_cset(type.get()));
  if (H5Tis_variable_str(type.get()) > 0) {
    H5Tset_size(mem.get(), H5T_VARIABLE);
    char* p = nullptr;
    if (H5Aread(attr.get(), mem.get(), &p) < 0) throw Error(where + hdf5_detail());
    std::string s = p ? p : "";
    H5free_memory(p);
    return s;
  }
  size_t size = H5Tget_size(type.get());
  H5Tset_size(mem.get(), size);
  H5Tset_strpad(mem.get(), H5Tget_strpad(type.get()));
  std::string s(size, '\0');
  if (H5Aread(attr.get(), mem.get(), s.data()) < 0) throw Error(where + hdf5_detail());
  s.resize(std::min(s.find('\0'), s.size()));
  if (H5Tget_strpad(type.get()) == H5T_STR_SPACEPAD) s.erase(s.find_last_not_of(' ') + 1);
  return s;
}

namespace {
// The class of a numeric attribute; throws if the attribute is not a number.
H5T_class_t numeric_class(hid_t attr, const std::string& where) {
  Handle type(H5Aget_type(attr), H5Tclose);
  H5T_class_t cls = H5Tget_class(type.get());
  if (cls != H5T_INTEGER && cls != H5T_FLOAT)
    throw Error(where + " is " + describe_type(type.get()) + ", expected a number");
  return cls;
}
}  // namespace

int64_t Reader::attr_int(const std::string& object, const std::string& key) const {
  const HdfLock lock;
  Handle attr = impl_->attribute(*this, object, key);
  const std::string where = path_ + ": attribute '" + key + "' of '" + object + "'";
  if (numeric_class(attr.get(), where) == H5T_FLOAT) {
    double d = 0;
    if (H5Aread(attr.get(), H5T_NATIVE_DOUBLE, &d) < 0) throw Error(where + ": " + hdf5_detail());
    if (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) > 9.0e15)
      throw Error(where + " is " + std::to_string(d) + ", expected an integer");
    return static_cast<int64_t>(d);
  }
  int64_t v = 0;
  if (H5Aread(attr.get(), H5T_NATIVE_INT64, &v) < 0) throw Error(where + ": " + hdf5_detail());
  return v;
}

double Reader::attr_double(const std::string& object, const std::string& key) const {
  const HdfLock lock;
  Handle attr = impl_->attribute(*this, object, key);
  const std::string where = path_ + ": attribute '" + key + "' of '" + object + "'";
  numeric_class(attr.get(), where);
  double d = 0;
  if (H5Aread(attr.get(), H5T_NATIVE_DOUBLE, &d) < 0) throw Error(where + ": " + hdf5_detail());
  return d;
}

}  // namespace dfb::h5

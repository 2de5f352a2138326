// Writing HDF5 files (see h5.h): to a temporary file, renamed into place by commit().
#include "formats/h5.h"

#include "formats/h5_internal.h"
#include "base/files.h"

namespace dfb::h5 {
using namespace internal;

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
  remove_stale_temporaries_of(path);  // what a writer of this file killed before left behind
  impl_->tmp = temporary_path(path);
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

}  // namespace dfb::h5

// HDF5 access through the C API (stable across HDF5 1.10 to 1.14): the reader, and what
// reader and writer share. Every handle is owned by a Handle, every call is checked, and
// HDF5's own error printing is switched off so that a failure surfaces as one dfb::Error line.
#include "formats/h5.h"

#include "base/limits.h"
#include "formats/h5_internal.h"

namespace dfb::h5 {
using namespace internal;

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

const char* dtype_name(DType t) {
  static const char* const names[] = {"uint8", "float32", "float64", "int64"};
  return names[index(t)];
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
  std::vector<int64_t> out;
  for (hsize_t d : dims) out.push_back(d > hsize_t{1} << 62 ? -1 : static_cast<int64_t>(d));
  if (checked_bytes(out, 1) < 0)
    throw Error(path_ + ": dataset '" + name + "' declares a shape whose element count does not fit in 64 bits");
  return out;
}

int64_t Reader::check_fits(const std::string& name, DType type, int64_t rows) const {
  std::vector<int64_t> dims = shape(name);
  if (rows >= 0 && !dims.empty()) dims[0] = rows;
  const std::string what = rows >= 0 ? std::to_string(rows) + " rows of " + path_ + ": dataset '" + name + "'"
                                     : path_ + ": dataset '" + name + "'";
  check_read_size(what, shape_text(dims) + " " + dtype_name(type), checked_bytes(dims, element_size(type)));
  return element_count(dims);
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
  std::vector<T> v(static_cast<size_t>(r.check_fits(name, type)));
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
  check_read_size(path_ + ": attribute '" + key + "' of '" + object + "'", "a string",
                  size > size_t{1} << 62 ? -1 : static_cast<int64_t>(size));
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

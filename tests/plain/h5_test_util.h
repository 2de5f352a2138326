// What the HDF5 and dataset-file tests share: temporary paths, the error check, and a
// look at how a dataset is stored.
#pragma once
#include <gtest/gtest.h>
#include <hdf5.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/files.h"

namespace dfb::h5_test {

// A fresh path under the test temp dir, unique per test and process.
inline std::string temp_path(const std::string& name) {
  const auto* info = testing::UnitTest::GetInstance()->current_test_info();
  std::string path = testing::TempDir() + "dfb_h5_" + info->name() + "_" + std::to_string(getpid()) + "_" + name;
  std::remove(path.c_str());
  return path;
}

inline bool file_exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }
inline std::string temp_of(const std::string& path) { return temporary_path(path); }

// Runs `f`, expects dfb::Error, and checks that its message contains `part`.
template <class F>
void expect_error(F f, const std::string& part) {
  try {
    f();
    ADD_FAILURE() << "no dfb::Error thrown; expected one containing: " << part;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << "message: " << e.what() << "\nexpected: " << part;
  }
}

// The chunk dims of a dataset, empty when it is not chunked; `deflate` tells whether it is compressed.
inline std::vector<hsize_t> chunk_of(const std::string& path, const std::string& name, bool* deflate = nullptr) {
  hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  hid_t ds = H5Dopen2(file, name.c_str(), H5P_DEFAULT);
  hid_t dcpl = H5Dget_create_plist(ds);
  std::vector<hsize_t> dims(8);
  int rank = H5Pget_layout(dcpl) == H5D_CHUNKED ? H5Pget_chunk(dcpl, 8, dims.data()) : 0;
  dims.resize(static_cast<size_t>(rank));
  unsigned flags = 0;
  size_t n = 0;
  if (deflate) *deflate = H5Pget_filter_by_id2(dcpl, H5Z_FILTER_DEFLATE, &flags, &n, nullptr, 0, nullptr, nullptr) >= 0;
  H5Eclear2(H5E_DEFAULT);
  H5Pclose(dcpl);
  H5Dclose(ds);
  H5Fclose(file);
  return dims;
}

// Replaces dataset `name` of an existing file by a chunked one of shape `dims` (type `type`,
// e.g. H5T_STD_U8LE) with no chunk written: the file stays a few kB while its header declares
// any size. What a hostile or damaged header looks like to a reader.
inline void declare_huge(const std::string& path, const std::string& name, const std::vector<hsize_t>& dims,
                         hid_t type) {
  hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(file, 0) << path;
  if (H5Lexists(file, name.c_str(), H5P_DEFAULT) > 0) H5Ldelete(file, name.c_str(), H5P_DEFAULT);
  std::vector<hsize_t> chunk(dims.size(), 1);
  hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_chunk(dcpl, static_cast<int>(chunk.size()), chunk.data());
  hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl, 1);
  hid_t ds = H5Dcreate2(file, name.c_str(), type, space, lcpl, dcpl, H5P_DEFAULT);
  EXPECT_GE(ds, 0) << name;
  H5Dclose(ds);
  H5Pclose(lcpl);
  H5Pclose(dcpl);
  H5Sclose(space);
  H5Fclose(file);
}

}  // namespace dfb::h5_test

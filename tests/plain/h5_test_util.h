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

namespace dfb::h5_test {

// A fresh path under the test temp dir, unique per test and process.
inline std::string temp_path(const std::string& name) {
  const auto* info = testing::UnitTest::GetInstance()->current_test_info();
  std::string path = testing::TempDir() + "dfb_h5_" + info->name() + "_" + std::to_string(getpid()) + "_" + name;
  std::remove(path.c_str());
  return path;
}

inline bool file_exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }
inline std::string temp_of(const std::string& path) { return path + ".tmp-" + std::to_string(getpid()); }

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

}  // namespace dfb::h5_test

// dfb::h5 (formats/h5.h); the dataset file is in test_dataset_file.cpp.
#include <gtest/gtest.h>
#include <hdf5.h>
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "base/error.h"
#include "formats/h5.h"
#include "tests/plain/h5_test_util.h"
#include "formats/dataset_file.h"

namespace dfb {
namespace {

using namespace h5_test;

using h5::DType;

TEST(H5, DTypeNames) {
  EXPECT_STREQ(h5::dtype_name(DType::kU8), "uint8");
  EXPECT_STREQ(h5::dtype_name(DType::kF32), "float32");
  EXPECT_STREQ(h5::dtype_name(DType::kF64), "float64");
  EXPECT_STREQ(h5::dtype_name(DType::kI64), "int64");
}

TEST(H5, RoundTripEveryDTypeAndRank) {
  const std::string path = temp_path("a.h5");
  std::vector<uint8_t> u8 = {0, 1, 127, 255, 7, 9};
  std::vector<float> f32 = {0.5f, -1.25f, 3e8f, -0.0f};
  std::vector<double> f64 = {1e-300, -2.5, 3.141592653589793};
  std::vector<int64_t> i64 = {INT64_MIN, -1, 0, INT64_MAX};
  std::vector<float> big(2 * 3 * 4 * 5 * 3);
  for (size_t i = 0; i < big.size(); ++i) big[i] = 0.25f * static_cast<float>(i % 17);
  std::vector<uint8_t> wide(3 * 70000, 9);
  const double scalar_d = 2.75;
  const int64_t scalar_i = -42;
  const uint8_t scalar_u = 200;
  const float scalar_f = 1.5f;
  {
    h5::Writer w(path);
    w.write("u8", DType::kU8, u8.data(), {2, 3});
    w.write("f32", DType::kF32, f32.data(), {4}, {}, 6);
    w.write("f64", DType::kF64, f64.data(), {3, 1});
    w.write("i64", DType::kI64, i64.data(), {2, 2}, {1, 2});
    w.write("five", DType::kF32, big.data(), {2, 3, 4, 5, 3}, {}, 9);
    w.write("wide", DType::kU8, wide.data(), {3, 70000}, {}, 1);
    w.write("chunky", DType::kF32, big.data(), {2, 3, 4, 5, 3}, {7, 0, 2, 99, 3}, 1);  // clamped chunk
    w.write("scalar_d", DType::kF64, &scalar_d, {});
    w.write("scalar_i", DType::kI64, &scalar_i, {}, {}, 4);  // deflate ignored for rank 0
    w.write("scalar_u", DType::kU8, &scalar_u, {});
    w.write("scalar_f", DType::kF32, &scalar_f, {});
    w.write("empty", DType::kF32, nullptr, {0, 3}, {}, 4);
    w.write("empty_mid", DType::kU8, nullptr, {2, 0, 5}, {1, 0, 5}, 0);
    w.commit();
  }
  h5::Reader r(path);
  EXPECT_EQ(r.read_u8("u8"), u8);
  EXPECT_EQ(r.read_f32("f32"), f32);
  EXPECT_EQ(r.read_i64("i64"), i64);
  std::vector<double> f64_back(3);
  r.read("f64", DType::kF64, f64_back.data());
  EXPECT_EQ(f64_back, f64);
  EXPECT_EQ(r.read_f32("five"), big);
  EXPECT_EQ(r.read_f32("chunky"), big);
  EXPECT_EQ(r.shape("five"), (std::vector<int64_t>{2, 3, 4, 5, 3}));
  EXPECT_EQ(r.shape("f64"), (std::vector<int64_t>{3, 1}));
  EXPECT_EQ(r.dtype("u8"), DType::kU8);
  EXPECT_EQ(r.dtype("f32"), DType::kF32);
  EXPECT_EQ(r.dtype("f64"), DType::kF64);
  EXPECT_EQ(r.dtype("i64"), DType::kI64);

  // Chunking: given (clamped to [1, shape]), default rows, none for scalars and empty arrays.
  bool deflate = false;
  EXPECT_EQ(chunk_of(path, "chunky", &deflate), (std::vector<hsize_t>{2, 1, 2, 5, 3}));
  EXPECT_TRUE(deflate);
  EXPECT_EQ(chunk_of(path, "five", &deflate), (std::vector<hsize_t>{2, 3, 4, 5, 3}));  // rows under 64 KiB
  EXPECT_TRUE(deflate);
  EXPECT_EQ(chunk_of(path, "wide"), (std::vector<hsize_t>{1, 70000}));  // one row per chunk
  EXPECT_EQ(r.read_u8("wide"), wide);
  EXPECT_EQ(chunk_of(path, "i64", &deflate), (std::vector<hsize_t>{1, 2}));
  EXPECT_FALSE(deflate);
  EXPECT_TRUE(chunk_of(path, "u8").empty());
  EXPECT_TRUE(chunk_of(path, "scalar_i").empty());
  EXPECT_TRUE(chunk_of(path, "empty").empty());

  EXPECT_TRUE(r.shape("scalar_d").empty());
  double d = 0;
  r.read("scalar_d", DType::kF64, &d);
  EXPECT_EQ(d, scalar_d);
  EXPECT_EQ(r.read_i64("scalar_i"), std::vector<int64_t>{scalar_i});
  EXPECT_EQ(r.read_u8("scalar_u"), std::vector<uint8_t>{scalar_u});
  EXPECT_EQ(r.read_f32("scalar_f"), std::vector<float>{scalar_f});

  EXPECT_EQ(r.shape("empty"), (std::vector<int64_t>{0, 3}));
  EXPECT_TRUE(r.read_f32("empty").empty());
  EXPECT_EQ(r.shape("empty_mid"), (std::vector<int64_t>{2, 0, 5}));
  EXPECT_TRUE(r.read_u8("empty_mid").empty());

  // Conversion by HDF5: stored float64 read as float32, uint8 as int64.
  std::vector<float> as_f32 = r.read_f32("f64");
  EXPECT_FLOAT_EQ(as_f32[2], 3.14159265f);
  std::vector<int64_t> as_i64 = r.read_i64("u8");
  EXPECT_EQ(as_i64[3], 255);
}

TEST(H5, DottedNamesAndNestedGroups) {
  const std::string path = temp_path("n.h5");
  const float v[2] = {1, 2};
  {
    h5::Writer w(path);
    w.write("model/down.0.conv.weight", DType::kF32, v, {2});
    w.write("model/down.0.conv.bias", DType::kF32, v, {1});
    w.write("model/up/1.norm.scale", DType::kF32, v, {2});
    w.write("a/b/c", DType::kF32, v, {2});
    w.write("/rooted", DType::kF32, v, {2});
    w.commit();
  }
  h5::Reader r(path);
  EXPECT_EQ(r.list("/"), (std::vector<std::string>{"a", "model", "rooted"}));
  EXPECT_EQ(r.list("model"), (std::vector<std::string>{"down.0.conv.bias", "down.0.conv.weight", "up"}));
  EXPECT_EQ(r.list("/model/up"), std::vector<std::string>{"1.norm.scale"});
  EXPECT_TRUE(r.exists("/"));
  EXPECT_TRUE(r.exists("model"));
  EXPECT_TRUE(r.exists("a/b"));
  EXPECT_FALSE(r.exists("a/x/c"));
  EXPECT_FALSE(r.exists("model/down"));
  EXPECT_FALSE(r.exists("nothing/at/all"));
  EXPECT_TRUE(r.is_dataset("model/down.0.conv.weight"));
  EXPECT_TRUE(r.is_dataset("rooted"));
  EXPECT_FALSE(r.is_dataset("model"));
  EXPECT_FALSE(r.is_dataset("missing"));
  EXPECT_EQ(r.read_f32("a/b/c"), (std::vector<float>{1, 2}));
  EXPECT_EQ(r.shape("model/down.0.conv.bias"), std::vector<int64_t>{1});
  expect_error([&] { r.list("model/down.0.conv.weight"); }, "no group 'model/down.0.conv.weight'");
  expect_error([&] { r.list("nope"); }, "no group 'nope'");
  expect_error([&] { r.shape("model/down"); }, path + ": no dataset 'model/down'");
  expect_error([&] { r.read_f32("model"); }, path + ": no dataset 'model'");
}

TEST(H5, AttributesOfAllKinds) {
  const std::string path = temp_path("attr.h5");
  const uint8_t x = 1;
  {
    h5::Writer w(path);
    w.write("g/data", DType::kU8, &x, {1});
    for (const std::string obj : {"/", "g", "g/data"}) {
      w.attr(obj, "name", "hello " + obj + " ünïcode");
      w.attr(obj, "count", int64_t{-7});
      w.attr(obj, "rate", 0.125);
    }
    w.attr("/", "whole", 3.0);
    w.attr("/", "count", int64_t{9});  // overwrites
    w.attr("/", "empty", std::string());
    expect_error([&] { w.attr("no/such", "k", 1.0); }, "no object 'no/such'");
    w.commit();
  }
  h5::Reader r(path);
  for (const std::string obj : {"/", "g", "g/data"}) {
    EXPECT_EQ(r.attr_string(obj, "name"), "hello " + obj + " ünïcode");
    EXPECT_EQ(r.attr_double(obj, "rate"), 0.125);
    EXPECT_TRUE(r.has_attr(obj, "rate"));
    EXPECT_FALSE(r.has_attr(obj, "other"));
  }
  EXPECT_EQ(r.attr_int("/", "count"), 9);
  EXPECT_EQ(r.attr_int("g", "count"), -7);
  EXPECT_EQ(r.attr_double("g/data", "count"), -7.0);  // int read as double
  EXPECT_EQ(r.attr_int("/", "whole"), 3);             // integral double read as int
  EXPECT_EQ(r.attr_string("/", "empty"), "");
  EXPECT_FALSE(r.has_attr("missing", "x"));
  expect_error([&] { r.attr_int("/", "rate"); }, "expected an integer");
  expect_error([&] { r.attr_int("g", "name"); }, path + ": attribute 'name' of 'g' is string, expected a number");
  expect_error([&] { r.attr_double("/", "name"); }, "attribute 'name' of '/' is string");
  expect_error([&] { r.attr_string("g/data", "count"); },
               path + ": attribute 'count' of 'g/data' is int64, expected a string");
  expect_error([&] { r.attr_string("g", "nope"); }, path + ": 'g' has no attribute 'nope'");
  expect_error([&] { r.attr_int("x/y", "k"); }, path + ": no object 'x/y'");
}

// Writes with the C API what h5py or other tools may produce.
void write_foreign_file(const std::string& path) {
  hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  hid_t scalar = H5Screate(H5S_SCALAR);
  auto fixed_string = [&](const char* key, const char* value, size_t size, H5T_str_t pad) {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, size);
    H5Tset_strpad(t, pad);
    std::string buf(value);
    buf.resize(size, pad == H5T_STR_SPACEPAD ? ' ' : '\0');
    hid_t a = H5Acreate2(file, key, t, scalar, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, t, buf.data());
    H5Aclose(a);
    H5Tclose(t);
  };
  fixed_string("nullterm", "abc", 8, H5T_STR_NULLTERM);
  fixed_string("nullpad", "train", 5, H5T_STR_NULLPAD);
  fixed_string("spacepad", "eval", 10, H5T_STR_SPACEPAD);
  int32_t small = 5;
  hid_t a = H5Acreate2(file, "int32", H5T_STD_I32BE, scalar, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(a, H5T_NATIVE_INT32, &small);
  H5Aclose(a);
  hsize_t dims[1] = {4};
  hid_t space = H5Screate_simple(1, dims, nullptr);
  int32_t values[4] = {1, -2, 3, 400};
  hid_t ds = H5Dcreate2(file, "int32_data", H5T_STD_I32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Dwrite(ds, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, values);
  H5Dclose(ds);
  hid_t str = H5Tcopy(H5T_C_S1);
  H5Tset_size(str, 4);
  ds = H5Dcreate2(file, "strings", str, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Dwrite(ds, str, H5S_ALL, H5S_ALL, H5P_DEFAULT, "abcdefghijklmnop");
  H5Dclose(ds);
  H5Tclose(str);
  H5Sclose(space);
  H5Sclose(scalar);
  H5Fclose(file);
}

TEST(H5, ForeignTypes) {
  const std::string path = temp_path("foreign.h5");
  write_foreign_file(path);
  h5::Reader r(path);
  EXPECT_EQ(r.attr_string("/", "nullterm"), "abc");
  EXPECT_EQ(r.attr_string("/", "nullpad"), "train");
  EXPECT_EQ(r.attr_string("/", "spacepad"), "eval");
  EXPECT_EQ(r.attr_int("/", "int32"), 5);
  EXPECT_EQ(r.attr_double("/", "int32"), 5.0);
  expect_error([&] { r.attr_int("/", "nullterm"); }, "attribute 'nullterm' of '/' is string, expected a number");
  expect_error([&] { r.dtype("int32_data"); }, path + ": dataset 'int32_data' has type int32 (class integer)");
  expect_error([&] { r.dtype("strings"); }, path + ": dataset 'strings' has type string (class string)");
  EXPECT_EQ(r.read_i64("int32_data"), (std::vector<int64_t>{1, -2, 3, 400}));  // converted by HDF5
  expect_error([&] { r.read_f32("strings"); }, path + ": cannot read dataset 'strings' as float32");
}

// HDF5 prints nothing itself, also for errors on a thread other than the one that opened the file.
TEST(H5, NoHdf5DiagnosticsOnAnyThread) {
  const std::string path = temp_path("foreign.h5");
  write_foreign_file(path);
  h5::Reader r(path);
  testing::internal::CaptureStderr();
  std::thread([&] {
    expect_error([&] { r.read_f32("strings"); }, "cannot read dataset 'strings'");
    expect_error([&] { h5::Reader bad(path + ".nope"); }, "no such file");
    expect_error([&] { h5::Writer w(path + "/x.h5"); }, "cannot write");
  }).join();
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
}

TEST(H5, ReadRows) {
  const std::string path = temp_path("rows.h5");
  std::vector<int64_t> v(5 * 2 * 3);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<int64_t>(i);
  const double s = 1;
  {
    h5::Writer w(path);
    w.write("m", DType::kI64, v.data(), {5, 2, 3}, {}, 3);
    w.write("s", DType::kF64, &s, {});
    w.commit();
  }
  h5::Reader r(path);
  std::vector<int64_t> rows(2 * 6);
  r.read_rows("m", DType::kI64, 1, 2, rows.data());
  EXPECT_EQ(rows, std::vector<int64_t>(v.begin() + 6, v.begin() + 18));
  std::vector<float> last(6);
  r.read_rows("m", DType::kF32, 4, 1, last.data());
  EXPECT_EQ(last[5], 29.0f);
  r.read_rows("m", DType::kI64, 5, 0, nullptr);  // empty range at the end is fine
  expect_error([&] { r.read_rows("m", DType::kI64, 4, 2, rows.data()); },
               path + ": rows [4, 6) are out of range for dataset 'm' with 5 rows");
  expect_error([&] { r.read_rows("m", DType::kI64, -1, 1, rows.data()); }, "out of range");
  expect_error([&] { r.read_rows("s", DType::kF64, 0, 1, rows.data()); }, "is a scalar");
  expect_error([&] { r.read_rows("q", DType::kF64, 0, 1, rows.data()); }, "no dataset 'q'");
}

TEST(H5, CommitIsAtomic) {
  const std::string path = temp_path("atomic.h5");
  const uint8_t x = 3;
  {
    h5::Writer w(path);
    w.write("x", DType::kU8, &x, {1});
    EXPECT_FALSE(file_exists(path));
    EXPECT_TRUE(file_exists(temp_of(path)));
    w.commit();
    EXPECT_TRUE(file_exists(path));
    EXPECT_FALSE(file_exists(temp_of(path)));
    expect_error([&] { w.write("y", DType::kU8, &x, {1}); }, "already committed");
  }
  EXPECT_TRUE(file_exists(path));

  const std::string other = temp_path("never.h5");
  {
    h5::Writer w(other);
    w.write("x", DType::kU8, &x, {1});
  }
  EXPECT_FALSE(file_exists(other));
  EXPECT_FALSE(file_exists(temp_of(other)));

  // An existing file survives an uncommitted writer, and a failed one.
  {
    h5::Writer w(path);
    const uint8_t y = 4;
    w.write("x", DType::kU8, &y, {1});
  }
  {
    h5::Writer w(path);
    w.write("x", DType::kU8, &x, {1});
    expect_error([&] { w.write("x", DType::kU8, &x, {1}); }, "cannot write '" + path + "': dataset 'x'");
    EXPECT_FALSE(file_exists(temp_of(path)));
    expect_error([&] { w.commit(); }, "abandoned");
  }
  EXPECT_FALSE(file_exists(temp_of(path)));
  h5::Reader r(path);
  EXPECT_EQ(r.read_u8("x"), std::vector<uint8_t>{3});
}

TEST(H5, WriterErrors) {
  expect_error([] { h5::Writer w("/nonexistent_dir_dfb/x.h5"); }, "cannot write '/nonexistent_dir_dfb/x.h5'");
  const std::string path = temp_path("bad.h5");
  h5::Writer w(path);
  const float v[4] = {};
  expect_error([&] { w.write("a", DType::kF32, v, {-1}); }, "negative size");
  expect_error([&] { w.write("a", DType::kF32, v, {4}, {1, 1}); }, "does not match shape");
  expect_error([&] { w.write("a", DType::kF32, v, {4}, {}, 10); }, "deflate level");
  expect_error([&] { w.write("a", DType::kF32, nullptr, {4}); }, "no data");
  w.write("a", DType::kF32, v, {4});  // argument errors leave the writer usable
  w.commit();
  EXPECT_EQ(h5::Reader(path).shape("a"), std::vector<int64_t>{4});
}

// A full disk, simulated by a file size limit: the error names the file, the
// temporary file is removed and nothing appears at the target path.
TEST(H5, WriteFailureRemovesTemporaryFile) {
  const std::string path = temp_path("full.h5");
  std::vector<uint8_t> data(1 << 20, 5);
  rlimit old{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit small = old;
  small.rlim_cur = 64 * 1024;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  std::string message;
  try {
    h5::Writer w(path);
    w.write("big", DType::kU8, data.data(), {1 << 20});
    w.commit();
  } catch (const Error& e) {
    message = e.what();
  }
  setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, old_handler);
  EXPECT_EQ(message.rfind("cannot write '" + path + "': ", 0), 0u) << message;
  EXPECT_FALSE(file_exists(path));
  EXPECT_FALSE(file_exists(temp_of(path)));
}

TEST(H5, ReaderErrors) {
  const std::string missing = temp_path("missing.h5");
  expect_error([&] { h5::Reader r(missing); }, "no such file: " + missing);

  const std::string text = temp_path("text.h5");
  std::ofstream(text) << "this is not an HDF5 file\n";
  expect_error([&] { h5::Reader r(text); }, text + ": not a readable HDF5 file (corrupt or truncated?)");

  const std::string cut = temp_path("cut.h5");
  std::vector<float> data(4096);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<float>(i);
  {
    h5::Writer w(cut);
    w.write("data", DType::kF32, data.data(), {64, 64});
    w.attr("/", "note", std::string("x"));
    w.commit();
  }
  std::ifstream in(cut, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  in.close();
  ASSERT_GT(bytes.size(), 16000u);
  std::ofstream(cut, std::ios::binary | std::ios::trunc) << bytes.substr(0, bytes.size() / 2);
  expect_error([&] { h5::Reader r(cut); }, cut + ": not a readable HDF5 file (corrupt or truncated?)");
}

}  // namespace
}  // namespace dfb

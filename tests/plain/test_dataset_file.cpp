// The dataset file (formats/dataset_file.h): round trips, defaults, validation errors.
#include <gtest/gtest.h>
#include <hdf5.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "base/error.h"
#include "formats/dataset_file.h"
#include "formats/h5.h"
#include "tests/plain/h5_test_util.h"

namespace dfb {
namespace {

using namespace h5_test;

using h5::DType;

// ---------------------------------------------------------------- dataset file

Clips small_clips(int64_t objects) {
  Clips c;
  c.count = 3;
  c.length = 4;
  c.height = 5;
  c.width = 6;
  c.channels = 3;
  c.frames.resize(static_cast<size_t>(c.count * c.clip_bytes()));
  for (size_t i = 0; i < c.frames.size(); ++i) c.frames[i] = static_cast<uint8_t>(i * 7);
  c.objects = objects;
  c.states.resize(static_cast<size_t>(c.count * c.length * objects * kStateDim));
  for (size_t i = 0; i < c.states.size(); ++i) c.states[i] = 0.5f * static_cast<float>(i);
  c.colors.resize(static_cast<size_t>(c.count * objects * 3));
  for (size_t i = 0; i < c.colors.size(); ++i) c.colors[i] = static_cast<uint8_t>(255 - i);
  c.source = "bouncing_shapes";
  c.split = "eval";
  c.fps = 10;
  c.generator_json = R"({"seed": 1})";
  return c;
}

// A changed byte in the stored frames (written back through HDF5, so the file stays readable) is
// caught by the frames' checksum when the file is read whole.
TEST(DatasetFile, ChecksumCatchesAChangedFrameByte) {
  const std::string path = temp_path("damaged.h5");
  const Clips c = small_clips(0);
  write_dataset_file(path, c);
  EXPECT_EQ(read_dataset_file(path).frames, c.frames);
  hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  hid_t ds = H5Dopen2(file, "frames", H5P_DEFAULT);
  std::vector<uint8_t> bytes = c.frames;
  bytes[bytes.size() / 2] ^= 1;
  ASSERT_GE(H5Dwrite(ds, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes.data()), 0);
  H5Dclose(ds);
  H5Fclose(file);
  expect_error([&] { read_dataset_file(path); }, path + ": /frames fails its checksum (stored fnv1a64:");
}

TEST(DatasetFile, RoundTrip) {
  const std::string path = temp_path("clips.h5");
  const Clips c = small_clips(2);
  write_dataset_file(path, c);
  EXPECT_FALSE(file_exists(temp_of(path)));
  const Clips b = read_dataset_file(path);
  EXPECT_EQ(b.count, 3);
  EXPECT_EQ(b.length, 4);
  EXPECT_EQ(b.height, 5);
  EXPECT_EQ(b.width, 6);
  EXPECT_EQ(b.channels, 3);
  EXPECT_EQ(b.frames, c.frames);
  EXPECT_EQ(b.objects, 2);
  EXPECT_EQ(b.states, c.states);
  EXPECT_EQ(b.colors, c.colors);
  EXPECT_EQ(b.source, c.source);
  EXPECT_EQ(b.split, c.split);
  EXPECT_EQ(b.fps, 10);
  EXPECT_EQ(b.generator_json, c.generator_json);

  h5::Reader r(path);
  EXPECT_EQ(r.attr_int("/", "schema_version"), kDatasetSchemaVersion);
  std::vector<uint8_t> clip(static_cast<size_t>(c.clip_bytes()));
  r.read_rows("frames", DType::kU8, 2, 1, clip.data());  // streaming one clip
  EXPECT_EQ(0, std::memcmp(clip.data(), c.clip(2), clip.size()));

  // One chunk per clip, deflate-compressed.
  bool deflate = false;
  EXPECT_EQ(chunk_of(path, "frames", &deflate), (std::vector<hsize_t>{1, 4, 5, 6, 3}));
  EXPECT_TRUE(deflate);
  EXPECT_EQ(chunk_of(path, "states", &deflate), (std::vector<hsize_t>{1, 4, 2, 6}));
  EXPECT_TRUE(deflate);
}

TEST(DatasetFile, WithoutStatesAndDefaults) {
  const std::string path = temp_path("plain.h5");
  Clips c = small_clips(0);
  write_dataset_file(path, c);
  EXPECT_FALSE(h5::Reader(path).exists("states"));
  EXPECT_EQ(read_dataset_file(path).objects, 0);

  // Only frames and schema_version: optional attributes get defaults.
  const std::string bare = temp_path("bare.h5");
  {
    h5::Writer w(bare);
    w.write("frames", DType::kU8, c.frames.data(), {3, 4, 5, 6, 3});
    w.attr("/", "schema_version", int64_t{1});
    w.commit();
  }
  const Clips b = read_dataset_file(bare);
  EXPECT_EQ(b.frames, c.frames);
  EXPECT_EQ(b.source, "");
  EXPECT_EQ(b.split, "");
  EXPECT_EQ(b.fps, 0);
  EXPECT_EQ(b.generator_json, "");
}

// Writes a file with `fill`, then expects read_dataset_file to reject it with "<path>: <message>".
void expect_rejected(const std::string& name, const std::function<void(h5::Writer&)>& fill,
                     const std::string& message) {
  const std::string path = temp_path(name);
  {
    h5::Writer w(path);
    fill(w);
    w.commit();
  }
  expect_error([&] { read_dataset_file(path); }, path + ": " + message);
}

TEST(DatasetFile, ValidationErrors) {
  static std::vector<uint8_t> bytes(4 * 8 * 32 * 32 * 4, 1);
  static std::vector<float> floats(4 * 8 * 32 * 32 * 3, 0.5f);
  // Valid frames [4, 8, 32, 32, 3] and schema_version 1, plus `more`.
  auto good = [](std::function<void(h5::Writer&)> more) {
    return [more](h5::Writer& w) {
      w.write("frames", DType::kU8, bytes.data(), {4, 8, 32, 32, 3});
      w.attr("/", "schema_version", int64_t{1});
      more(w);
    };
  };
  auto frames = [](DType type, std::vector<int64_t> shape) {
    return [type, shape](h5::Writer& w) {
      w.write("frames", type, type == DType::kU8 ? static_cast<const void*>(bytes.data()) : floats.data(), shape);
      w.attr("/", "schema_version", int64_t{1});
    };
  };
  expect_rejected("float.h5", frames(DType::kF32, {4, 8, 32, 32}),
                  "/frames must be uint8 [N, L, H, W, C], found float32 [4, 8, 32, 32]");
  expect_rejected("rank.h5", frames(DType::kU8, {4, 8, 32, 32}),
                  "/frames must be uint8 [N, L, H, W, C], found uint8 [4, 8, 32, 32]");
  expect_rejected("channels.h5", frames(DType::kU8, {4, 8, 32, 32, 4}),
                  "/frames has 4 channels; it must have 1 (grey) or 3 (RGB)");
  expect_rejected("empty.h5", frames(DType::kU8, {0, 8, 32, 32, 3}),
                  "/frames has shape [0, 8, 32, 32, 3]; N, L, H and W must be at least 1");
  expect_rejected("version.h5", good([](h5::Writer& w) { w.attr("/", "schema_version", int64_t{7}); }),
                  "schema_version 7 is not supported (this dfbench reads 1)");
  expect_rejected(
      "noversion.h5",
      [](h5::Writer& w) {
        w.write("frames", DType::kU8, bytes.data(), {4, 8, 32, 32, 3});
      },
      "attribute schema_version is missing on '/'");
  expect_rejected("strversion.h5", good([](h5::Writer& w) { w.attr("/", "schema_version", std::string("1")); }),
                  "attribute 'schema_version' of '/' is string, expected a number");
  expect_rejected(
      "noframes.h5", [](h5::Writer& w) { w.attr("/", "schema_version", int64_t{1}); }, "/frames is missing");
  expect_rejected("states.h5", good([](h5::Writer& w) {
                    w.write("states", DType::kF32, floats.data(), {4, 7, 2, 6});
                    w.write("colors", DType::kU8, bytes.data(), {4, 2, 3});
                  }),
                  "/states has shape [4, 7, 2, 6] but /frames implies [4, 8, K, 6]");
  expect_rejected("statetype.h5", good([](h5::Writer& w) {
                    w.write("states", DType::kU8, bytes.data(), {4, 8, 2, 6});
                    w.write("colors", DType::kU8, bytes.data(), {4, 2, 3});
                  }),
                  "/states must be float32 [N, L, K, 6], found uint8 [4, 8, 2, 6]");
  expect_rejected("nocolors.h5", good([](h5::Writer& w) {
                    w.write("states", DType::kF32, floats.data(), {4, 8, 2, 6});
                  }),
                  "/states is present but /colors is missing");
  expect_rejected("colors.h5", good([](h5::Writer& w) {
                    w.write("states", DType::kF32, floats.data(), {4, 8, 2, 6});
                    w.write("colors", DType::kU8, bytes.data(), {4, 3, 3});
                  }),
                  "/colors must be uint8 [4, 2, 3] to match /frames and /states, found uint8 [4, 3, 3]");
  expect_rejected("fps.h5", good([](h5::Writer& w) { w.attr("/", "fps", std::string("ten")); }),
                  "attribute 'fps' of '/' is string, expected a number");
  expect_rejected("negfps.h5", good([](h5::Writer& w) { w.attr("/", "fps", -1.0); }), "attribute fps is -1");
  expect_rejected("source.h5", good([](h5::Writer& w) { w.attr("/", "source", 3.0); }),
                  "attribute 'source' of '/' is float64, expected a string");
  expect_error([] { read_dataset_file("/nonexistent_dfb.h5"); }, "no such file: /nonexistent_dfb.h5");
}

TEST(DatasetFile, WriteRejectsInconsistentClips) {
  const std::string path = temp_path("reject.h5");
  Clips c = small_clips(2);
  c.channels = 2;
  expect_error([&] { write_dataset_file(path, c); }, "cannot write '" + path + "': channels must be 1 or 3");
  c = small_clips(2);
  c.frames.pop_back();
  expect_error([&] { write_dataset_file(path, c); }, "frames hold");
  c = small_clips(2);
  c.states.pop_back();
  expect_error([&] { write_dataset_file(path, c); }, "states hold");
  c = small_clips(2);
  c.count = 0;
  c.frames.clear();
  expect_error([&] { write_dataset_file(path, c); }, "count, length, height and width >= 1");
  EXPECT_FALSE(file_exists(path));
  EXPECT_FALSE(file_exists(temp_of(path)));
}

}  // namespace
}  // namespace dfb

// Limits before allocation (base/limits.h): sizes against closed forms, and a file of every
// torch-free format whose header declares an enormous shape, refused with a message that names
// the file, the object and the size instead of std::bad_alloc. (Checkpoints and encoder files:
// tests/test_trainer.cpp.)
#include <gtest/gtest.h>
#include <hdf5.h>
#include <zlib.h>

#include <cstdint>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/files.h"
#include "base/json_reader.h"
#include "base/limits.h"
#include "formats/clip_stream.h"
#include "formats/dataset_file.h"
#include "formats/h5.h"
#include "formats/idx_file.h"
#include "formats/rollout_file.h"
#include "tests/plain/h5_test_util.h"

namespace dfb {
namespace {

using namespace h5_test;

TEST(Limits, CheckedBytesIsTheProductOrMinusOne) {
  EXPECT_EQ(checked_bytes({}, 4), 4);
  EXPECT_EQ(checked_bytes({2, 3, 5}, 8), 240);
  EXPECT_EQ(checked_bytes({0, int64_t{1} << 62}, 8), 0);
  EXPECT_EQ(checked_bytes({-1, 2}, 1), -1);
  EXPECT_EQ(checked_bytes({int64_t{1} << 31, int64_t{1} << 30}, 4), -1);  // 2^63 does not fit
  EXPECT_EQ(checked_bytes({int64_t{1} << 31, int64_t{1} << 30}, 2), std::numeric_limits<int64_t>::max() / 2 + 1);
}

TEST(Limits, ByteSizeText) {
  EXPECT_EQ(byte_size_text(800), "800 bytes");
  EXPECT_EQ(byte_size_text(12'000'000), "12 MB");
  EXPECT_EQ(byte_size_text(1'500'000'000), "1.5 GB");
  EXPECT_EQ(byte_size_text(-1), "more than 9.2e18 bytes");
}

// Sets the process's read limit for one test.
struct ReadLimit {
  explicit ReadLimit(int64_t n) { set_read_limit_bytes(n); }
  ~ReadLimit() { set_read_limit_bytes(0); }
};

TEST(Limits, TheLimitIsTheSetValueElseTheMachinesMemory) {
  EXPECT_GT(read_limit_bytes(), int64_t{1} << 26);  // some memory exists
  ReadLimit limit(1000);
  EXPECT_EQ(read_limit_bytes(), 1000);
  EXPECT_NO_THROW(check_read_size("f: dataset 'x'", "[10, 100] uint8", 1000));
  expect_error([] { check_read_size("f: dataset 'x'", "[10, 101] uint8", 1010); },
               "f: dataset 'x' declares [10, 101] uint8: 1.01 kB, more than the read limit of 1 kB");
  expect_error([] { check_read_size("f: dataset 'x'", "[huge]", -1); }, "more than 9.2e18 bytes");
}

Clips small_clips() {
  Clips c;
  c.count = 2, c.length = 3, c.height = 4, c.width = 4, c.channels = 1;
  c.frames.assign(static_cast<size_t>(c.count * c.clip_bytes()), 7);
  return c;
}

// 10^7 clips of 10^3 frames of 1024 x 1024 x 3: 3e16 bytes declared, a few kB on disk.
const std::vector<hsize_t> kHugeFrames = {10'000'000, 1000, 1024, 1024, 3};
const std::string kHugeMessage = "declares [10000000, 1000, 1024, 1024, 3] uint8: 31.5 PB, more than the read limit";

TEST(Limits, DatasetFileDeclaringAHugeShapeIsRefusedByName) {
  const std::string path = temp_path("huge.h5");
  write_dataset_file(path, small_clips());
  declare_huge(path, "frames", kHugeFrames, H5T_STD_U8LE);
  expect_error([&] { read_dataset_file(path); }, path + ": dataset 'frames' " + kHugeMessage);
  // The streaming reader holds one clip: 3 GB here, refused under a 1 GB limit, not before.
  const std::string one_clip = "1 rows of " + path + ": dataset 'frames' declares [1, 1000, 1024, 1024, 3] uint8: 3.15 GB";
  ReadLimit limit(1'000'000'000);
  expect_error([&] { open_clip_file(path); }, one_clip);
}

TEST(Limits, DatasetFileWithAnOverflowingShapeIsRefused) {
  const std::string path = temp_path("overflow.h5");
  write_dataset_file(path, small_clips());
  declare_huge(path, "frames", {hsize_t{1} << 40, hsize_t{1} << 40, 4, 4, 1}, H5T_STD_U8LE);
  expect_error([&] { read_dataset_file(path); }, "element count does not fit in 64 bits");
}

TEST(Limits, RolloutFileDeclaringHugeFramesOrStatesIsRefusedByName) {
  Rollouts r;
  r.method = "m";
  r.context = 1;
  r.t_train = 2;
  r.generated = small_clips();
  r.truth = small_clips();
  const std::string path = temp_path("rollouts.h5");
  write_rollout_file(path, r);
  declare_huge(path, "truth/frames", kHugeFrames, H5T_STD_U8LE);
  declare_huge(path, "m/frames", kHugeFrames, H5T_STD_U8LE);
  expect_error([&] { read_rollout_file(path); }, path + ": dataset 'truth/frames' " + kHugeMessage);

  // Object states with 10^15 objects (colors to match).
  write_rollout_file(path, r);
  declare_huge(path, "truth/states", {2, 3, hsize_t{1} << 50, 6}, H5T_IEEE_F32LE);
  declare_huge(path, "truth/colors", {2, hsize_t{1} << 50, 3}, H5T_STD_U8LE);
  expect_error([&] { read_rollout_file(path); }, path + ": dataset 'truth/states' declares [2, 3, 1125899906842624, 6] float32");
}

TEST(Limits, IdxHeaderDeclaringAHugeArrayIsRefusedByName) {
  const std::string path = temp_path("huge-idx-ubyte.gz");
  gzFile f = gzopen(path.c_str(), "wb");
  const uint8_t header[] = {0, 0, 8, 3, 0x7f, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 28};
  gzwrite(f, header, sizeof header);
  gzclose(f);
  expect_error([&] { read_idx(path); }, path + ": the idx header declares [2147483647, 2147483647, 28] uint8");
}

TEST(Limits, TextFilesLargerThanTheLimitAreRefusedBeforeReading) {
  const std::string path = temp_path("big.json");
  std::ofstream(path) << "{\"seed\": 1, \"padding\": \"" << std::string(3000, 'x') << "\"}";
  ReadLimit limit(1000);
  expect_error([&] { load_json_file(path); }, path + " declares 3026 bytes on disk: 3.03 kB, more than the read limit of 1 kB");
  expect_error([&] { read_file(path); }, path + " declares 3026 bytes on disk: 3.03 kB, more than the read limit of 1 kB");
}

}  // namespace
}  // namespace dfb

// Tests for the streamed training data (datasets/clip_stream): clips by index from a file and
// from memory agree, the prefetcher hands out each step's batch in order, and a read error
// reaches the training step instead of vanishing on the background thread.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "base/error.h"
#include "datasets/bouncing_shapes.h"
#include "formats/clip_stream.h"
#include "formats/dataset_file.h"

namespace dfb {
namespace {

Clips small_clips() {
  BouncingShapesOptions o;
  o.size = 16;
  o.radius_min = 2;
  o.radius_max = 3;
  return generate_bouncing_shapes(o, 7, 6, 3);
}

std::vector<ClipWindow> plan_of(int64_t step) {
  return {{step % 7, step % 3}, {(step * 5 + 1) % 7, 0}, {(step + 3) % 7, 2}};
}

TEST(ClipStream, FileAndMemoryGiveTheSameWindows) {
  const Clips clips = small_clips();
  const std::string path = testing::TempDir() + "dfb_stream.h5";
  write_dataset_file(path, clips);
  auto file = open_clip_file(path);
  auto memory = clips_in_memory(clips);
  EXPECT_EQ(file->count, 7);
  EXPECT_EQ(file->length, 6);
  EXPECT_EQ(file->frame_bytes(), 16 * 16 * 3);
  std::vector<uint8_t> a(4 * file->frame_bytes()), b(a.size());
  for (int64_t clip : {0, 3, 6}) {
    file->read(clip, 2, 4, a.data());
    memory->read(clip, 2, 4, b.data());
    EXPECT_EQ(a, b) << clip;
    EXPECT_TRUE(std::equal(a.begin(), a.end(), clips.frame(clip, 2)));
  }
  EXPECT_THROW(file->read(7, 0, 1, a.data()), Error);
  EXPECT_THROW(file->read(0, 3, 4, a.data()), Error);
  std::filesystem::remove(path);
}

TEST(ClipStream, PrefetcherHandsOutEveryStepsBatchInOrder) {
  const Clips clips = small_clips();
  auto source = clips_in_memory(clips);
  const int64_t window = 3, fb = source->frame_bytes();
  BatchPrefetcher data(*source, window, plan_of, 5, 40, 2);
  for (int64_t step = 5; step < 40; ++step) {
    const std::vector<uint8_t> batch = data.take(step);
    const std::vector<ClipWindow> plan = plan_of(step);
    ASSERT_EQ(batch.size(), plan.size() * window * fb);
    for (size_t b = 0; b < plan.size(); ++b)
      EXPECT_TRUE(std::equal(batch.begin() + b * window * fb, batch.begin() + (b + 1) * window * fb,
                             clips.frame(plan[b].clip, plan[b].start)))
          << "step " << step << " entry " << b;
  }
  EXPECT_GE(data.waited_seconds(), 0.0);
}

TEST(ClipStream, AReadErrorReachesTheStepThatNeedsIt) {
  auto source = clips_in_memory(small_clips());
  BatchPrefetcher data(*source, 2, [](int64_t step) { return std::vector<ClipWindow>{{step == 3 ? 99 : 0, 0}}; }, 0, 10);
  for (int64_t step = 0; step < 3; ++step) EXPECT_EQ(data.take(step).size(), 2u * source->frame_bytes());
  try {
    data.take(3);
    ADD_FAILURE() << "the reader's error must be thrown by take()";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("clip 99"), std::string::npos) << e.what();
  }
}

// Stopping early (an error in the training step) joins the reader without a hang.
TEST(ClipStream, DestroyedWhileReadingAhead) {
  auto source = clips_in_memory(small_clips());
  for (int i = 0; i < 20; ++i) {
    BatchPrefetcher data(*source, 2, plan_of, 0, 1000000, 4);
    data.take(0);
  }
}

}  // namespace
}  // namespace dfb

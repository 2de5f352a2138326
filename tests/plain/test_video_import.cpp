// Tests for dfbench data import (datasets/video_import): videos made here with OpenCV's
// writer, cut into clips, split by video; damaged inputs reported and skipped.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>
#include <set>
#include <string>

#include "base/error.h"
#include "formats/h5.h"
#include "base/json_reader.h"
#include "base/registry.h"
#include "formats/dataset_file.h"
#include "datasets/dataset_registry.h"
#include "datasets/video_import.h"
#include "tests/cli_runner.h"

namespace dfb {
namespace {

namespace fs = std::filesystem;

std::string temp_dir(const std::string& name) {
  const std::string dir = testing::TempDir() + "dfb_import_" + name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// `frames` frames of 80x60 (wider than tall): a bright square moving right on a dark ground
// whose grey level encodes the video, MJPG in AVI at 10 fps.
std::string write_video(const std::string& path, int frames, int shade) {
  cv::VideoWriter w(path, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), 10.0, cv::Size(80, 60));
  EXPECT_TRUE(w.isOpened()) << "OpenCV cannot write " << path;
  for (int t = 0; t < frames; ++t) {
    cv::Mat f(60, 80, CV_8UC3, cv::Scalar(shade, shade, shade));
    cv::rectangle(f, cv::Rect(10 + t, 20, 12, 12), cv::Scalar(40, 200, 250), cv::FILLED);
    w.write(f);
  }
  return path;
}

TEST(VideoImport, CutsClipsAndSplitsByVideo) {
  const std::string dir = temp_dir("split");
  VideoImportOptions o;
  for (int v = 0; v < 3; ++v) o.videos.push_back(write_video(dir + "/v" + std::to_string(v) + ".avi", 40, 30 * v));
  o.size = 16;
  o.clip = 8;
  o.eval_share = 0.34;
  o.out = dir + "/clips.h5";
  o.quiet = true;
  const VideoImportResult r = import_videos(o);
  ASSERT_EQ(r.videos.size(), 3u);
  for (const VideoReport& v : r.videos) {
    EXPECT_EQ(v.problem, "") << v.path;
    EXPECT_EQ(v.frames, 40) << v.path;
    EXPECT_EQ(v.clips, 5) << v.path;
    EXPECT_NEAR(v.fps, 10.0, 1e-6);
  }
  EXPECT_EQ(r.train_clips, 10);
  EXPECT_EQ(r.eval_clips, 5);
  EXPECT_EQ(r.eval_file, dir + "/clips.eval.h5");
  const Clips train = read_dataset_file(r.train_file), eval = read_dataset_file(r.eval_file);
  EXPECT_EQ(train.count, 10);
  EXPECT_EQ(train.length, 8);
  EXPECT_EQ(train.height, 16);
  EXPECT_EQ(train.width, 16);
  EXPECT_EQ(train.channels, 3);
  EXPECT_EQ(train.split, "train");
  EXPECT_EQ(eval.split, "eval");
  EXPECT_EQ(train.source, "video_folder");
  EXPECT_NEAR(train.fps, 10.0, 1e-6);
  // No evaluation frame comes from a training video, and each clip says where it is from.
  h5::Reader tf(r.train_file), ef(r.eval_file);
  const std::vector<int64_t> tv = tf.read_i64("clip_video"), ev = ef.read_i64("clip_video");
  const std::set<int64_t> train_videos(tv.begin(), tv.end()), eval_videos(ev.begin(), ev.end());
  EXPECT_EQ(train_videos.size(), 2u);
  EXPECT_EQ(eval_videos.size(), 1u);
  for (int64_t v : eval_videos) EXPECT_EQ(train_videos.count(v), 0u);
  const std::vector<int64_t> ranges = tf.read_i64("clip_frames");
  EXPECT_EQ(ranges[0], 0);
  EXPECT_EQ(ranges[1], 8);
  EXPECT_EQ(ranges[2], 8);
  EXPECT_EQ(ranges[3], 16);
  // The centered square was kept: the ground's grey is the video's own (JPEG allows a little).
  EXPECT_NEAR(eval.frames[0], 30 * *eval_videos.begin(), 6);
}

TEST(VideoImport, SkipStrideAndGrey) {
  const std::string dir = temp_dir("skip");
  VideoImportOptions o;
  o.videos = {write_video(dir + "/a.avi", 41, 50)};
  o.size = 12;
  o.gray = true;
  o.clip = 4;
  o.stride = 2;
  o.skip = 2;
  o.out = dir + "/g.h5";
  o.quiet = true;
  const VideoImportResult r = import_videos(o);
  ASSERT_EQ(r.videos[0].problem, "");
  EXPECT_EQ(r.videos[0].frames, 21);  // frames 0, 2, ..., 40
  EXPECT_EQ(r.train_clips, (21 - 4) / 2 + 1);
  EXPECT_TRUE(r.eval_file.empty()) << "one video: nothing can be held out";
  const Clips c = read_dataset_file(r.train_file);
  EXPECT_EQ(c.channels, 1);
  EXPECT_NEAR(c.fps, 5.0, 1e-6);
  const std::vector<int64_t> ranges = h5::Reader(r.train_file).read_i64("clip_frames");
  EXPECT_EQ(ranges[2], 4);  // the second clip starts 2 kept frames = 4 decoded frames later
  EXPECT_EQ(ranges[3], 11);
}

TEST(VideoImport, DamagedFilesAreReportedAndSkipped) {
  const std::string dir = temp_dir("damaged");
  VideoImportOptions o;
  const std::string good = write_video(dir + "/good.avi", 30, 20), whole = write_video(dir + "/cut.avi", 60, 90);
  fs::resize_file(whole, fs::file_size(whole) / 2);
  std::ofstream(dir + "/notes.mp4") << "this is not a video\n";
  o.videos = {good, whole, dir + "/notes.mp4", dir + "/missing.avi"};
  o.size = 16;
  o.clip = 8;
  o.out = dir + "/out.h5";
  o.quiet = true;
  const VideoImportResult r = import_videos(o);
  ASSERT_EQ(r.videos.size(), 4u);
  EXPECT_EQ(r.videos[0].problem, "");
  EXPECT_NE(r.videos[1].problem.find("truncated"), std::string::npos) << r.videos[1].problem;
  EXPECT_NE(r.videos[2].problem.find("does not open as a video"), std::string::npos) << r.videos[2].problem;
  EXPECT_EQ(r.videos[3].problem, "no such file");
  EXPECT_EQ(r.train_clips, 3);
  const std::string summary = format_import(r);
  EXPECT_NE(summary.find("skipped 3 file(s)"), std::string::npos) << summary;
  EXPECT_NE(summary.find("notes.mp4"), std::string::npos) << summary;

  // Nothing usable: an error, and no file written.
  o.videos = {dir + "/notes.mp4"};
  o.out = dir + "/none.h5";
  EXPECT_THROW(import_videos(o), Error);
  EXPECT_FALSE(fs::exists(dir + "/none.h5"));
  for (const auto& e : fs::directory_iterator(dir))
    EXPECT_EQ(e.path().string().find(".tmp-"), std::string::npos) << e.path();
}

// The command line: a summary naming what was skipped, and a non-zero exit with one error
// line when nothing could be imported.
TEST(VideoImport, CommandLine) {
  if (std::string(DFB_CLI_PATH).empty()) GTEST_SKIP() << "a torch-free build (DFB_ONLY_TORCH_FREE) has no dfbench binary";
  const std::string dir = temp_dir("cli");
  write_video(dir + "/a.avi", 20, 30);
  write_video(dir + "/b.avi", 20, 90);
  std::ofstream(dir + "/c.mp4") << "not a video";
  const CliResult r = dfbench("data import --videos " + dir + " --size 8 --clip 4 --eval-share 0.5 --out " + dir + "/o.h5");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("5 training clips"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("5 evaluation clips"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("skipped 1 file(s)"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(dir + "/o.eval.h5"));
  EXPECT_ONE_ERROR(dfbench("data import --videos " + dir + "/c.mp4 --out " + dir + "/n.h5"), "no video gave a clip");
  EXPECT_FALSE(fs::exists(dir + "/n.h5"));
}

// SIGKILL at any moment of `data import` leaves each target either absent or whole (read with
// its checksum), never half-written, and an import run again finishes with the clips an
// uninterrupted one writes, leaving no temporary file.
TEST(VideoImport, KilledAtAnyPointLeavesNoHalfFileAndARerunFinishesTheSame) {
  if (std::string(DFB_CLI_PATH).empty()) GTEST_SKIP() << "a torch-free build (DFB_ONLY_TORCH_FREE) has no dfbench binary";
  const std::string dir = temp_dir("kill");
  for (int v = 0; v < 6; ++v) write_video(dir + "/v" + std::to_string(v) + ".avi", 400, 20 + 30 * v);
  auto args = [&](const std::string& out) {
    return std::vector<std::string>{"data", "import", "--videos", dir, "--size", "32", "--clip", "8", "--out", out};
  };
  const auto t0 = std::chrono::steady_clock::now();
  int status = 0;
  const pid_t whole = spawn_dfbench(args(dir + "/whole.h5"));
  ASSERT_TRUE(wait_until(whole, t0 + std::chrono::seconds(120), &status));
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  const auto took = std::chrono::steady_clock::now() - t0;

  const std::string out = dir + "/killed.h5", eval = dir + "/killed.eval.h5";
  int kills = 0;
  for (int k = 1; k <= 9; ++k) {
    const pid_t pid = spawn_dfbench(args(out));
    if (wait_until(pid, std::chrono::steady_clock::now() + took * k / 10, &status)) continue;  // it finished
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    ++kills;
    for (const std::string& f : {out, eval})
      if (fs::exists(f)) {
        EXPECT_NO_THROW(read_dataset_file(f)) << "a kill at " << k << "/10 left " << f << " damaged";
      }
  }
  EXPECT_GE(kills, 3);
  const pid_t last = spawn_dfbench(args(out));
  ASSERT_TRUE(wait_until(last, std::chrono::steady_clock::now() + std::chrono::seconds(120), &status));
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(read_dataset_file(out).frames, read_dataset_file(dir + "/whole.h5").frames);
  EXPECT_EQ(read_dataset_file(eval).frames, read_dataset_file(dir + "/whole.eval.h5").frames);
  for (const auto& e : fs::directory_iterator(dir))
    EXPECT_EQ(e.path().string().find(".tmp-"), std::string::npos) << e.path();
}

// The registered dataset a preset names: clips of the split's videos only, spaced over them.
TEST(VideoImport, VideoFolderDatasetCutsEachSplitFromItsVideos) {
  const std::string dir = temp_dir("folder");
  std::vector<std::string> videos;
  for (int v = 0; v < 3; ++v) videos.push_back(write_video(dir + "/v" + std::to_string(v) + ".avi", 30, 40 + 60 * v));
  const nlohmann::json options = {{"videos", {dir}}, {"eval", {videos[2]}}, {"size", 16}};
  auto make = [&](int64_t count, int64_t length, const std::string& split) {
    ConfigErrors errors;
    JsonReader r(options, "data.options", errors);
    Clips c = Registry<DatasetFactory>::instance().get("video_folder").factory.make(r, count, length, 0, split);
    errors.throw_if_any("test");
    return c;
  };
  const Clips train = make(10, 8, "train"), eval = make(4, 20, "eval");
  EXPECT_EQ(train.count, 10);
  EXPECT_EQ(train.length, 8);
  EXPECT_EQ(train.height, 16);
  EXPECT_EQ(eval.count, 4);
  EXPECT_EQ(eval.length, 20);
  // The ground's grey tells the video: training clips from v0 and v1 only, evaluation from v2.
  std::set<int> train_grounds, eval_grounds;
  for (int64_t i = 0; i < train.count; ++i) train_grounds.insert((train.clip(i)[0] - 10) / 60);
  for (int64_t i = 0; i < eval.count; ++i) eval_grounds.insert((eval.clip(i)[0] - 10) / 60);
  EXPECT_EQ(train_grounds, (std::set<int>{0, 1})) << "first pixels " << int(train.clip(0)[0]);
  EXPECT_EQ(eval_grounds, (std::set<int>{2}));
  EXPECT_EQ(make(1, 1, "train").count, 1);  // the frame-shape probe decodes one frame
  try {
    make(100, 20, "eval");
    ADD_FAILURE() << "too few evaluation frames must be an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("give 11 clips of 20 frames"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace dfb

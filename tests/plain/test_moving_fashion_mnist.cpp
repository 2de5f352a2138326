// Tests for the idx reader and the moving_fashion_mnist generator (docs/design.md §5). The real
// Fashion-MNIST files come from Debian's dataset-fashion-mnist, which scripts/setup.sh installs.
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "base/error.h"
#include "formats/idx_file.h"
#include "datasets/moving_fashion_mnist.h"

namespace dfb {
namespace {

std::string temp_path(const std::string& name) { return testing::TempDir() + "dfb_idx_" + name; }

// An idx file of unsigned bytes, gzip-compressed; `cut` drops that many bytes from its end.
std::string write_idx(const std::string& name, const std::vector<int64_t>& dims, const std::vector<uint8_t>& data,
                      size_t cut = 0) {
  std::vector<uint8_t> bytes = {0, 0, 0x08, static_cast<uint8_t>(dims.size())};
  for (int64_t d : dims)
    for (int shift : {24, 16, 8, 0}) bytes.push_back(static_cast<uint8_t>(d >> shift));
  bytes.insert(bytes.end(), data.begin(), data.end());
  bytes.resize(bytes.size() - cut);
  const std::string path = temp_path(name);
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
  return path;
}

template <typename F>
void expect_error(F&& f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "expected an error containing '" << needle << "'";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(IdxFile, ReadsWhatItsHeaderSaysAndRejectsDamage) {
  std::vector<uint8_t> data(3 * 2 * 5);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(7 * i);
  const IdxArray a = read_idx(write_idx("ok.gz", {3, 2, 5}, data));
  EXPECT_EQ(a.dims, (std::vector<int64_t>{3, 2, 5}));
  EXPECT_EQ(a.count(), 3);
  EXPECT_EQ(a.item_bytes(), 10);
  EXPECT_EQ(a.data, data);
  expect_error([&] { read_idx(write_idx("short.gz", {3, 2, 5}, data, 4)); }, "ends after 26 of the 30 bytes");
  expect_error([&] { read_idx(temp_path("absent.gz")); }, "no such file");
  std::vector<uint8_t> text = {'h', 'e', 'l', 'l', 'o'};
  const std::string not_idx = temp_path("text.gz");
  gzFile f = gzopen(not_idx.c_str(), "wb");
  gzwrite(f, text.data(), static_cast<unsigned>(text.size()));
  gzclose(f);
  expect_error([&] { read_idx(not_idx); }, "not an idx file");
}

TEST(IdxFile, FashionMnistFilesMatchTheirHeadersAndKnownLabels) {
  const std::string dir = kFashionMnistDir;
  ASSERT_TRUE(std::filesystem::exists(dir + "/train-labels-idx1-ubyte.gz"))
      << dir << " is missing: install Debian's dataset-fashion-mnist (scripts/setup.sh does)";
  const IdxArray train = read_idx(dir + "/train-images-idx3-ubyte.gz");
  const IdxArray train_labels = read_idx(dir + "/train-labels-idx1-ubyte.gz");
  const IdxArray test = read_idx(dir + "/t10k-images-idx3-ubyte.gz");
  const IdxArray test_labels = read_idx(dir + "/t10k-labels-idx1-ubyte.gz");
  EXPECT_EQ(train.dims, (std::vector<int64_t>{60000, 28, 28}));
  EXPECT_EQ(train_labels.dims, (std::vector<int64_t>{60000}));
  EXPECT_EQ(test.dims, (std::vector<int64_t>{10000, 28, 28}));
  EXPECT_EQ(test_labels.dims, (std::vector<int64_t>{10000}));
  // The first item of both parts is an ankle boot (class 9).
  EXPECT_EQ(train_labels.data[0], 9);
  EXPECT_EQ(test_labels.data[0], 9);
  EXPECT_EQ(*std::max_element(train_labels.data.begin(), train_labels.data.end()), 9);
}

TEST(MovingFashionMnist, PathsStayOnTheCanvasMoveAtTheSpeedAndReflect) {
  MovingFashionMnistOptions o;
  const double lim = o.size - 28, eps = 1e-9;
  int reflections = 0, inner_steps = 0;
  for (int64_t clip = 0; clip < 40; ++clip) {
    for (const ItemPath& p : moving_item_paths(o, 120, 5, clip, 60000)) {
      EXPECT_GE(p.item, 0);
      EXPECT_LT(p.item, 60000);
      for (size_t t = 0; t < p.corner.size(); ++t) {
        for (int axis = 0; axis < 2; ++axis) {
          EXPECT_GE(p.corner[t][axis], 0.0);
          EXPECT_LE(p.corner[t][axis], lim);
        }
        if (t + 1 == p.corner.size()) continue;
        const double dx = p.corner[t + 1][0] - p.corner[t][0], dy = p.corner[t + 1][1] - p.corner[t][1];
        EXPECT_LE(std::hypot(dx, dy), o.speed + eps);
        auto inside = [&](size_t s) {
          return p.corner[s][0] > eps && p.corner[s][0] < lim - eps && p.corner[s][1] > eps && p.corner[s][1] < lim - eps;
        };
        if (inside(t) && inside(t + 1)) {
          EXPECT_NEAR(std::hypot(dx, dy), o.speed, 1e-9);
          ++inner_steps;
        }
        // Clamped at an edge: the next move on that axis goes back into the canvas.
        if (t + 2 < p.corner.size())
          for (int axis = 0; axis < 2; ++axis) {
            const double at = p.corner[t + 1][axis], before = p.corner[t][axis], after = p.corner[t + 2][axis];
            if ((at == 0.0 && before > 0.0) || (at == lim && before < lim)) {
              ++reflections;
              EXPECT_TRUE(at == 0.0 ? after >= at : after <= at) << "clip " << clip << " t " << t;
              EXPECT_NE(after, at) << "moving away from the edge";
            }
          }
      }
    }
  }
  EXPECT_GT(reflections, 40);
  EXPECT_GT(inner_steps, 4000);
}

TEST(MovingFashionMnist, ClipsAreTheItemsAtTheirPathsCombinedByMaximum) {
  MovingFashionMnistOptions o;
  const Clips train = generate_moving_fashion_mnist(o, "train", 3, 12, 7);
  EXPECT_EQ(train.channels, 1);
  EXPECT_EQ(train.height, 64);
  EXPECT_EQ(train.objects, 0);
  EXPECT_EQ(train.source, "moving_fashion_mnist");
  // Deterministic, and a shorter request is a prefix.
  EXPECT_EQ(generate_moving_fashion_mnist(o, "train", 3, 12, 7).frames, train.frames);
  const Clips shorter = generate_moving_fashion_mnist(o, "train", 2, 5, 7);
  for (int64_t i = 0; i < 2; ++i)
    EXPECT_TRUE(std::equal(shorter.clip(i), shorter.clip(i) + 5 * 64 * 64, train.clip(i)));
  // Every frame is the pixel maximum of its items drawn at their rounded corners.
  const ItemImages& items = fashion_mnist_items(o.dir, "train");
  for (int64_t i = 0; i < 3; ++i) {
    const std::vector<ItemPath> paths = moving_item_paths(o, 12, 7, i, items.count);
    for (int64_t t : {0, 11}) {
      std::vector<uint8_t> want(64 * 64, 0);
      for (const ItemPath& p : paths) {
        const long x0 = std::lround(p.corner[t][0]), y0 = std::lround(p.corner[t][1]);
        for (int y = 0; y < 28; ++y)
          for (int x = 0; x < 28; ++x) {
            uint8_t& w = want[(y0 + y) * 64 + x0 + x];
            w = std::max(w, items.pixels[p.item * 784 + y * 28 + x]);
          }
      }
      EXPECT_TRUE(std::equal(want.begin(), want.end(), train.frame(i, t))) << "clip " << i << " frame " << t;
    }
  }
  // Evaluation clips draw from the t10k items.
  const Clips eval = generate_moving_fashion_mnist(o, "eval", 3, 12, 7);
  EXPECT_EQ(eval.split, "eval");
  EXPECT_NE(eval.frames, train.frames);
  EXPECT_EQ(fashion_mnist_items(o.dir, "eval").count, 10000);
}

TEST(MovingFashionMnist, MissingFilesNameThePackage) {
  MovingFashionMnistOptions o;
  o.dir = temp_path("nowhere");
  expect_error([&] { generate_moving_fashion_mnist(o, "train", 1, 2, 0); }, "dataset-fashion-mnist");
  o = MovingFashionMnistOptions{};
  o.size = 20;
  expect_error([&] { validate(o); }, "moving_fashion_mnist.size");
}

}  // namespace
}  // namespace dfb

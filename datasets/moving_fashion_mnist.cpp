// moving_fashion_mnist generator and its registration (see moving_fashion_mnist.h).
#include "datasets/moving_fashion_mnist.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/json_reader.h"
#include "base/registry.h"
#include "base/rng.h"
#include "datasets/dataset_registry.h"
#include "formats/idx_file.h"

namespace dfb {

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr int kItemSide = 28;

std::string idx_path(const std::string& dir, const std::string& prefix, const char* kind) {
  // Debian ships the files gzip-compressed; an unpacked copy is read as well.
  const std::string base = dir + "/" + prefix + "-" + kind;
  if (std::filesystem::exists(base + ".gz")) return base + ".gz";
  if (std::filesystem::exists(base)) return base;
  throw Error(base + ".gz not found: Moving Fashion-MNIST reads the Fashion-MNIST items that Debian's package "
              "dataset-fashion-mnist installs (scripts/setup.sh installs it; or apt-get install dataset-fashion-mnist), "
              "or give data.options.dir");
}

}  // namespace

void validate(const MovingFashionMnistOptions& o) {
  if (o.size < kItemSide || o.size > 4096)
    throw Error("moving_fashion_mnist.size: must be in [28, 4096] (items are 28x28), got " + std::to_string(o.size));
  if (o.items < 1 || o.items > 16) throw Error("moving_fashion_mnist.items: must be in [1, 16], got " + std::to_string(o.items));
  if (!(o.speed >= 0) || o.speed > o.size)
    throw Error("moving_fashion_mnist.speed: must be in [0, size] px per frame, got " + std::to_string(o.speed));
}

std::vector<ItemPath> moving_item_paths(const MovingFashionMnistOptions& o, int64_t length, uint64_t seed,
                                        int64_t index, int64_t pool) {
  Rng rng(clip_seed(seed, index));
  const double lim = o.size - kItemSide;
  std::vector<ItemPath> paths(static_cast<size_t>(o.items));
  for (ItemPath& p : paths) {
    p.item = rng.below(pool);
    double x = rng.uniform(0, lim), y = rng.uniform(0, lim);
    const double theta = rng.uniform(0, 2 * kPi);
    double vx = o.speed * std::cos(theta), vy = o.speed * std::sin(theta);
    p.corner.resize(static_cast<size_t>(length));
    for (int64_t t = 0; t < length; ++t) {
      p.corner[t] = {x, y};
      x += vx;
      y += vy;
      if (x < 0) x = 0, vx = -vx;
      if (x > lim) x = lim, vx = -vx;
      if (y < 0) y = 0, vy = -vy;
      if (y > lim) y = lim, vy = -vy;
    }
  }
  return paths;
}

const ItemImages& fashion_mnist_items(const std::string& dir, const std::string& split) {
  static std::mutex mu;
  static std::map<std::string, ItemImages> cache;
  const std::string prefix = split == "eval" ? "t10k" : "train";
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(dir + "/" + prefix);
  if (it != cache.end()) return it->second;
  const std::string images_path = idx_path(dir, prefix, "images-idx3-ubyte");
  const std::string labels_path = idx_path(dir, prefix, "labels-idx1-ubyte");
  const IdxArray images = read_idx(images_path), labels = read_idx(labels_path);
  if (images.dims.size() != 3 || images.dims[1] != kItemSide || images.dims[2] != kItemSide)
    throw Error(images_path + ": expected [n, 28, 28] images");
  if (labels.dims.size() != 1 || labels.count() != images.count())
    throw Error(labels_path + ": " + std::to_string(labels.count()) + " labels for " + std::to_string(images.count()) +
                " images in " + images_path);
  ItemImages items;
  items.count = images.count();
  items.pixels = images.data;
  return cache.emplace(dir + "/" + prefix, std::move(items)).first->second;
}

Clips generate_moving_fashion_mnist(const MovingFashionMnistOptions& o, const std::string& split, int64_t count,
                                    int64_t length, uint64_t seed) {
  validate(o);
  if (split != "train" && split != "eval") throw Error("moving_fashion_mnist: split must be train or eval, got " + split);
  const ItemImages& items = fashion_mnist_items(o.dir, split);
  Clips c;
  c.count = count;
  c.length = length;
  c.height = c.width = o.size;
  c.channels = 1;
  c.source = "moving_fashion_mnist";
  c.split = split;
  c.fps = 10;
  c.generator_json = nlohmann::json({{"dataset", "moving_fashion_mnist"},
                                     {"size", o.size},
                                     {"items", o.items},
                                     {"speed", o.speed},
                                     {"dir", o.dir},
                                     {"split", split},
                                     {"seed", seed}})
                         .dump();
  c.frames.assign(static_cast<size_t>(count * length * o.size * o.size), 0);
  const int64_t item_px = kItemSide * kItemSide;
  for (int64_t i = 0; i < count; ++i) {
    const std::vector<ItemPath> paths = moving_item_paths(o, length, seed, i, items.count);
    for (int64_t t = 0; t < length; ++t) {
      uint8_t* frame = c.frames.data() + (i * length + t) * o.size * o.size;
      for (const ItemPath& p : paths) {
        const int x0 = static_cast<int>(std::lround(p.corner[t][0])), y0 = static_cast<int>(std::lround(p.corner[t][1]));
        const uint8_t* img = items.pixels.data() + p.item * item_px;
        for (int y = 0; y < kItemSide; ++y)
          for (int x = 0; x < kItemSide; ++x) {
            uint8_t& px = frame[(y0 + y) * o.size + x0 + x];
            px = std::max(px, img[y * kItemSide + x]);
          }
      }
    }
  }
  return c;
}

namespace {

Clips make(JsonReader& r, int64_t count, int64_t length, uint64_t seed, const std::string& split) {
  MovingFashionMnistOptions o;
  r.get("size", o.size).get("items", o.items).get("speed", o.speed).get("dir", o.dir);
  r.finish();
  try {
    validate(o);
  } catch (const Error& e) {
    r.check(false, "", e.what());
    return {};
  }
  if (!r.errors().empty()) return {};
  return generate_moving_fashion_mnist(o, split, count, length, seed);
}

Registrar<DatasetFactory> reg("moving_fashion_mnist",
                              "two Fashion-MNIST items moving on a 64x64 canvas, Moving MNIST protocol "
                              "(Debian's dataset-fashion-mnist)",
                              DatasetFactory{&make});

}  // namespace
}  // namespace dfb

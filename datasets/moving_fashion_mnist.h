// moving_fashion_mnist (docs/design.md §5): the Moving MNIST protocol with Fashion-MNIST items.
// A 64x64 grey canvas; two 28x28 items, each picked uniformly from the split's items,
// start at a uniform position and move in a uniform direction at 3.6 px per frame; a
// position that would leave the canvas is clamped to the edge and that velocity component
// reflected; overlapping items combine by pixel maximum. Training clips use the train
// items, evaluation clips the t10k items. Deterministic from a seed, any length.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "formats/clips.h"

namespace dfb {

// Where Debian's dataset-fashion-mnist installs the idx files.
constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

struct MovingFashionMnistOptions {
  int size = 64;          // canvas side, px
  int items = 2;          // items per clip
  double speed = 3.6;     // px per frame
  std::string dir = kFashionMnistDir;
};

// Throws dfb::Error for options that cannot work (canvas smaller than an item, no items,
// negative speed), naming the option.
void validate(const MovingFashionMnistOptions& options);

// One item's path through a clip: its index among the split's items and the top-left
// corner (x, y) of its 28x28 box at every frame, each within [0, size − 28].
struct ItemPath {
  int64_t item = 0;
  std::vector<std::array<double, 2>> corner;
};
// The paths of clip `index` (the same for any `length` prefix); `pool` = items in the split.
std::vector<ItemPath> moving_item_paths(const MovingFashionMnistOptions& options, int64_t length, uint64_t seed,
                                        int64_t index, int64_t pool);

// The split's items, [n, 28, 28] bytes, read once per process and kept. Throws dfb::Error
// naming the missing file and the Debian package that provides it.
struct ItemImages {
  int64_t count = 0, side = 28;
  std::vector<uint8_t> pixels;
};
const ItemImages& fashion_mnist_items(const std::string& dir, const std::string& split);

// `count` clips of `length` frames, 1 channel; clip i depends only on (seed, i).
Clips generate_moving_fashion_mnist(const MovingFashionMnistOptions& options, const std::string& split, int64_t count,
                                    int64_t length, uint64_t seed);

}  // namespace dfb

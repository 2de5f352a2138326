// What the tests of tiny CPU models share: the tiny preset with overrides, a fresh folder,
// random weights, and one-thread runs.
#pragma once
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <string>
#include <vector>

#include "backbones/backbone.h"
#include "pipeline/run_config.h"

namespace dfb {

inline RunConfig tiny_config(const std::vector<std::string>& overrides = {}) {
  return parse_run_config(load_config_json("tiny", overrides), "tiny");
}

inline std::string fresh_dir(const std::string& name) {
  std::string dir = testing::TempDir() + "dfb_models_" + name;
  std::filesystem::remove_all(dir);
  return dir;
}

// Random weights everywhere: the backbone zero-initialises its output layers, which
// would make any "does not depend on" property hold trivially.
inline void randomize(torch::nn::Module& m, uint64_t seed) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(seed);
  for (auto& p : m.parameters()) p.normal_(0.0, 0.2);
}

// Runs `fn` with LibTorch on one thread (bitwise-reproducible reductions), then restores.
template <class Fn>
void single_threaded(Fn fn) {
  const int before = at::get_num_threads();
  at::set_num_threads(1);
  fn();
  at::set_num_threads(before);
}

// The output at frame t ignores later frames: for each t in `cuts`, frames after t are
// changed (inputs and levels) and the outputs up to t must not move, those after must.
inline void expect_output_ignores_later_frames(BackboneImpl& b, const torch::Tensor& x, const torch::Tensor& lv,
                                               const std::vector<int64_t>& cuts) {
  const torch::Tensor y = b.forward(x, lv);
  for (int64_t t : cuts) {
    torch::Tensor x2 = x.clone(), lv2 = lv.clone();
    x2.slice(1, t + 1) += torch::randn_like(x2.slice(1, t + 1)) * 3;
    lv2.slice(1, t + 1).fill_(0.9);
    const torch::Tensor y2 = b.forward(x2, lv2);
    EXPECT_LT((y2.slice(1, 0, t + 1) - y.slice(1, 0, t + 1)).abs().max().item<float>(), 1e-5) << "t = " << t;
    EXPECT_GT((y2.slice(1, t + 1) - y.slice(1, t + 1)).abs().max().item<float>(), 1e-3) << "later frames must matter";
  }
}

}  // namespace dfb

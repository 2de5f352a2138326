// The backbone interface (docs/design.md §3): x [B, T, C, H, W] and per-frame levels
// [B, T] (float, ℓ / N in [0, 1]) in, a prediction shaped like x out.
#pragma once
#include <torch/nn/module.h>
#include <torch/types.h>

#include <functional>
#include <memory>

#include "backbones/memory.h"

namespace dfb {

class JsonReader;

class BackboneImpl : public torch::nn::Module {
 public:
  virtual torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& levels) = 0;
  // True when the output at frame t depends only on frames <= t.
  virtual bool causal() const = 0;
  // The training window: the most frames one call may take, unless the backbone is recurrent
  // (rollouts slide a window of this size; recurrent backbones carry their state instead).
  virtual int64_t max_frames() const = 0;
  // True when the backbone carries a state from frame to frame (convgru): calls may take any
  // number of frames, and its memory extends by more frames, so a rollout of any length keeps
  // one state, not a window.
  virtual bool recurrent() const { return false; }
  // A memory of the history for this backbone (backbones/memory.h): while new frames are
  // denoised the first P frames of the window stay the same over many calls, and the memory
  // runs them once. nullptr when the backbone keeps none (a bidirectional one sees the whole
  // window in every call).
  virtual std::unique_ptr<BackboneMemory> make_memory() { return nullptr; }
};
using Backbone = std::shared_ptr<BackboneImpl>;

// What every backbone must fit: the data's channels and size, the training window,
// and whether the method needs causal attention.
struct BackboneShape {
  int64_t channels = 3;
  int64_t image_size = 32;
  int64_t max_frames = 8;
  bool causal = true;
};

// Registered factory: reads its options (strictly) from `r`, then builds.
struct BackboneFactory {
  static constexpr const char* kKind = "backbone";
  std::function<Backbone(JsonReader& r, const BackboneShape& shape)> make;
};

// Reads {"name": ..., options...} and builds the named backbone. Errors go to r's ConfigErrors;
// when there are any, returns nullptr.
Backbone make_backbone(JsonReader& r, const BackboneShape& shape);

// Every parameter and buffer by its dotted name, in registration order
// (the names checkpoints use).
std::vector<std::pair<std::string, torch::Tensor>> named_tensors(const torch::nn::Module& m);

// Rotary position embedding (Su et al. 2021) over the second-to-last axis of x [..., T, d]:
// channel pairs (i, i + d/2) of position p (first_position + index) are rotated by p·θ_i, θ_i = 10000^(−2i/d), so
// q·k after rotation depends on the offset between positions only (the same whichever
// frames a sliding window holds).
torch::Tensor rotary_positions(const torch::Tensor& x, int64_t first_position = 0);

}  // namespace dfb

// The backbone's memory of the frames before the ones it is asked about (the history):
// the keys and values of every temporal attention layer of a causal unet3d (a KV cache),
// the recurrent state of convgru (docs/design.md §3, §4.1). A backbone makes one
// (BackboneImpl::make_memory); the rollout engine owns it, one per rollout in flight, so the
// module holds no state of its own and one model can serve several rollouts at once.
// A memory refers to its backbone and must not outlive it.
#pragma once
#include <torch/types.h>

#include <cstdint>

namespace dfb {

class BackboneMemory {
 public:
  virtual ~BackboneMemory() = default;
  // Runs the history x [B, P, C, H, W] at levels [B, P] (ℓ / N) once and keeps what later
  // calls need, replacing what was kept.
  virtual void assign(const torch::Tensor& x, const torch::Tensor& levels) = 0;
  // Appends frames to the history without rerunning it (a recurrent state advances); a
  // memory that holds a window (unet3d) refuses, with the reason.
  virtual void extend(const torch::Tensor& x, const torch::Tensor& levels) = 0;
  // The prediction for x [B, T, ...] that follows the history: the last T frames of the
  // backbone's forward() on history ++ x, up to rounding. The memory is left as it was.
  virtual torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& levels) = 0;
  // History frames held (0 before assign()).
  virtual int64_t frames() const = 0;
};

}  // namespace dfb

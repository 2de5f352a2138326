// AdamW (Loshchilov & Hutter: decoupled weight decay), gradient clipping and an EMA of
// weights over packed parameters (train/flat_parameters.h: a few whole-buffer operations a
// step), written out so their whole state is a list of named tensors: checkpoints store it
// as plain HDF5 and LibTorch 1.13 and 2.x read each other's.
#pragma once
#include <torch/types.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tensor/named_tensors.h"
#include "train/flat_parameters.h"

namespace dfb {

struct AdamWOptions {
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.0;
};

class AdamW {
 public:
  // Updates `params` (which must outlive it; packed with gradients).
  AdamW(FlatParameters& params, AdamWOptions options);
  // p ← p − lr·(m̂ / (√v̂ + eps) + wd·p), with bias-corrected moments, for every parameter (one
  // that took no part in the step has a zero gradient: its moments decay, and weight decay applies).
  void step(double lr);
  void zero_grad();
  int64_t steps() const { return steps_; }
  // "m/<name>" and "v/<name>" for every parameter.
  NamedTensors state() const;
  // Throws dfb::Error naming a missing or mis-shaped entry.
  void load_state(const std::map<std::string, torch::Tensor>& state, int64_t steps);

 private:
  FlatParameters& params_;
  AdamWOptions o_;
  torch::Tensor m_, v_;  // packed like params_.values()
  int64_t steps_ = 0;
};

// ema ← d·ema + (1 − d)·p with d = min(decay, (1 + step) / (10 + step)); `ema` packs tensors
// of the same names and shapes as `params` (checked).
void ema_update(const FlatParameters& ema, const FlatParameters& params, double decay, int64_t step);

// Global-norm gradient clipping: scales the gradients by min(1, max_norm / (norm + 1e-6))
// (max_norm 0: not at all) and returns the norm before clipping as a 0-dim tensor on their
// device (no host round trip: read it when it is logged).
torch::Tensor clip_grad_norm(const FlatParameters& params, double max_norm);

// Copies `source` tensors into the same-named tensors of `target` (under `prefix` in source).
// Throws dfb::Error listing missing names or shape mismatches (e.g. a checkpoint of another model).
void load_named(const NamedTensors& target, const std::map<std::string, torch::Tensor>& source,
                const std::string& prefix, const std::string& what);

}  // namespace dfb

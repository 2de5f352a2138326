// AdamW (Loshchilov & Hutter: decoupled weight decay) and an EMA of weights,
// written out so their whole state is a list of named tensors: checkpoints store
// it as plain HDF5 and LibTorch 1.13 and 2.x read each other's.
#pragma once
#include <torch/types.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tensor/named_tensors.h"

namespace dfb {

struct AdamWOptions {
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.0;
};

class AdamW {
 public:
  AdamW(NamedTensors params, AdamWOptions options);
  // p ← p − lr·(m̂ / (√v̂ + eps) + wd·p), with bias-corrected moments. Params without grad are skipped.
  void step(double lr);
  void zero_grad();
  int64_t steps() const { return steps_; }
  // "m/<name>" and "v/<name>" for every parameter.
  NamedTensors state() const;
  // Throws dfb::Error naming a missing or mis-shaped entry.
  void load_state(const std::map<std::string, torch::Tensor>& state, int64_t steps);

 private:
  NamedTensors params_;
  AdamWOptions o_;
  std::vector<torch::Tensor> m_, v_;
  int64_t steps_ = 0;
};

// ema ← d·ema + (1 − d)·p with d = min(decay, (1 + step) / (10 + step)).
void ema_update(const NamedTensors& ema, const NamedTensors& params, double decay, int64_t step);

// Global-norm gradient clipping; returns the norm before clipping.
double clip_grad_norm(const NamedTensors& params, double max_norm);

// Copies `source` tensors into the same-named tensors of `target` (under `prefix` in source).
// Throws dfb::Error listing missing names or shape mismatches (e.g. a checkpoint of another model).
void load_named(const NamedTensors& target, const std::map<std::string, torch::Tensor>& source,
                const std::string& prefix, const std::string& what);

}  // namespace dfb

// A model's tensors packed into one contiguous buffer, each tensor a view of it, and their
// gradients likewise (docs/design.md §9): AdamW, the EMA and gradient clipping then run as a
// handful of whole-buffer operations instead of a few per tensor (the smoke model has 166
// tensors: about 1,800 small operations a step before).
#pragma once
#include <torch/types.h>

#include <string>

#include "tensor/named_tensors.h"

namespace dfb {

class FlatParameters {
 public:
  // Moves the values of `tensors` into one buffer (same dtype and device for all; they keep
  // their values, shapes and autograd identity, now sharing its storage). With `grads`, every
  // tensor that requires grad gets a gradient that is a view of one gradient buffer, zeroed by
  // zero_grad(): backward accumulates into it in place, and a tensor that took no part in a
  // step has a zero gradient (not an undefined one). Tensors that need no gradient (buffers)
  // are left out.
  explicit FlatParameters(const NamedTensors& tensors, bool grads = true);

  const torch::Tensor& values() const { return values_; }  // [numel], the tensors' storage
  const torch::Tensor& grads() const { return grads_; }    // [numel], undefined without grads
  void zero_grad();
  // The packed tensors, by name, in their order.
  const NamedTensors& tensors() const { return tensors_; }
  // Views of `flat` (shaped like values()) with the tensors' names (prefixed) and shapes.
  NamedTensors views_of(const torch::Tensor& flat, const std::string& prefix = "") const;
  // Throws dfb::Error unless `other` packs tensors of the same names and shapes in the same order.
  void check_same_layout(const FlatParameters& other, const std::string& what) const;

 private:
  NamedTensors tensors_;
  torch::Tensor values_, grads_;
};

}  // namespace dfb

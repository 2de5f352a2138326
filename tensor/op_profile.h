// What a piece of LibTorch work does, counted from the operators it dispatches (LibTorch's
// RecordFunction callbacks, on this thread): the time of each operator (self time, its nested
// operators' time taken out) and the floating-point operations of the matrix products and
// convolutions, from their input shapes (docs/performance.md). For benchmarks and roofline
// figures, never in the hot path: the callbacks slow every operator down.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace dfb {

struct OpStat {
  std::string name;     // e.g. "aten::convolution", "autograd::engine::evaluate_function: AddmmBackward0"
  int64_t calls = 0;
  double self_seconds = 0;
  double flops = 0;     // multiply-adds count 2; only the outermost counted operator of a nest
};

struct OpProfile {
  std::vector<OpStat> ops;  // by self time, largest first
  double seconds = 0;       // wall time of the whole work
  double flops = 0;         // summed over ops
  double outside_seconds = 0;  // wall time in no operator (C++ between the calls, the callbacks' own cost)
  // The first `n` rows as a plain-text table (share of the time, calls, ms, GFLOP).
  std::string table(size_t n) const;
};

// Runs `work` once with the callbacks on and returns what its operators did. `by_caller`: rows
// per operator and the operator that called it ("aten::copy_ < aten::contiguous"), to find
// where a cheap operator is called from.
OpProfile profile_ops(const std::function<void()>& work, bool by_caller = false);

// The floating-point operations of operator `name` given the shapes of its tensor inputs and
// outputs (an undefined tensor: an empty shape), 0 for operators that are not counted. Counted:
// mm, addmm, bmm, baddbmm (2·M·N·K per matrix), convolution (2 · output elements · Cin/groups ·
// kernel area), convolution_backward (the same for each of grad_input and grad_weight it
// computes), scaled_dot_product_attention (4·Lq·Lk·d per head) and its backward ops (twice that).
double op_flops(const std::string& name, const std::vector<std::vector<int64_t>>& inputs,
                const std::vector<std::vector<int64_t>>& outputs);

}  // namespace dfb

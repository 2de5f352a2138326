// What the benchmark files of dfbench_bench share.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <stdexcept>
#include <string>

#include "tensor/precision.h"

namespace dfb {

// Sets the "GFLOP/s" counter from the operations of one iteration (`flops`, counted from the
// operators' shapes by tensor/op_profile.h, outside the timed loop).
inline void set_flop_rate(benchmark::State& state, double flops) {
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops * static_cast<double>(state.iterations()) / 1e9, benchmark::Counter::kIsRate);
}

// DFB_PRECISION=fp32|bf16 (default fp32): the precision every benchmark computes in.
inline Precision bench_precision() {
  const char* p = std::getenv("DFB_PRECISION");
  Precision out = Precision::kFp32;
  if (p && *p && !parse_precision(p, out)) throw std::runtime_error(std::string("DFB_PRECISION must be fp32 or bf16, not ") + p);
  return out;
}

}  // namespace dfb

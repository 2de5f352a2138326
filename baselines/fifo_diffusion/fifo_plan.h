// FIFO-Diffusion's diagonal queue (Kim et al. 2024, "FIFO-Diffusion: Generating Infinite Videos
// from Text without Training", arXiv 2405.11473; docs/design.md §4.5) as a plan: which queue
// positions each backbone call covers, at which levels, and which of its frames it writes back.
// The same plan serves every pass of the queue, so it is printed by `dfbench schedule --fifo`
// and checked against the formula by the tests.
//
// A window of f frames, n partitions: the queue holds n·f frames, queue slot j (0 = head) at
// level τ_{j+1} with τ_i = level_of_step(i, n·f) (the n·f diagonal levels; τ_{n·f} = N). One pass
// moves every slot one level down (τ_i → τ_{i−1}, τ_0 = 0): the head leaves clean, the rest
// shift forward and pure noise joins at the tail.
//   latent partitioning: the queue is cut into n windows of f frames, one call each;
//   lookahead denoising: f/2 clean frames (the latest output) sit in front of the queue,
//     labelled τ_1 as the reference code labels them, and 2n windows of f frames with stride f/2
//     each write back only their second half, so every slot is denoised seeing f/2 cleaner
//     frames before it. The calls run from the tail to the head, so each reads frames no
//     earlier call of the pass has written.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <vector>

namespace dfb {

class Diffusion;

struct FifoCall {
  int64_t begin = 0;               // first position of the padded queue the window covers
  std::vector<int64_t> from, to;   // levels of the window's f frames before and after the call
  int64_t write_begin = 0;         // the call writes back positions [write_begin, begin + f)
};

struct FifoPlan {
  int64_t window = 0, partitions = 0;
  int64_t pad = 0;                  // clean frames in front of the queue (f/2 with lookahead, else 0)
  std::vector<int64_t> levels;      // level of every position before a pass: τ_1 for the pad, then τ_1..τ_{n·f}
  std::vector<FifoCall> calls;      // one pass, in call order (tail first)
  int64_t output() const { return pad; }  // the position that is clean after the pass
};

// Throws dfb::Error for windows < 2, partitions < 1, or an odd window with lookahead.
FifoPlan fifo_plan(int64_t window, int64_t partitions, bool lookahead, const Diffusion& diffusion);

// {"window", "partitions", "pad", "levels", "calls": [{"begin", "from", "to", "write_begin"}]}.
nlohmann::json to_json(const FifoPlan& plan);

}  // namespace dfb

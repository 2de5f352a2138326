// dfbench's own random numbers for data and resampling: splitmix64 and xoshiro256**,
// the same on every platform and compiler (no std:: distributions).
#pragma once
#include <array>
#include <cstdint>

namespace dfb {

inline uint64_t splitmix64(uint64_t& state) {
  state += 0x9E3779B97F4A7C15ULL;
  uint64_t z = state;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// The seed of everything random in training step `step` of a run seeded `seed` (and of
// rollout batch `step`): one splitmix64 round over both, so steps draw independent streams.
inline uint64_t step_seed(uint64_t seed, int64_t step) {
  uint64_t z = seed * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(step) + 0x632BE59BD9B4E019ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// The seed of a procedural dataset's evaluation clips, derived from the data seed so they
// never repeat a training clip's stream (the stream of "step -1").
inline uint64_t eval_data_seed(uint64_t data_seed) { return step_seed(data_seed, -1); }

// xoshiro256** seeded through splitmix64.
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (uint64_t& word : s_) word = splitmix64(seed);
  }
  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Uniform in [0, n) (n >= 1; the modulo bias is below 2^-40 for n < 2^24).
  int64_t below(int64_t n) { return static_cast<int64_t>(next() % static_cast<uint64_t>(n)); }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::array<uint64_t, 4> s_{};
};

// The seed of clip `index` of a dataset: depends only on (seed, index), so a longer or
// larger request starts with the same clips.
inline uint64_t clip_seed(uint64_t seed, int64_t index) {
  uint64_t state = seed;
  state = splitmix64(state) + static_cast<uint64_t>(index) * 0xD1B54A32D192ED03ULL;
  return splitmix64(state);
}

}  // namespace dfb

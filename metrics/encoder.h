// Frame encoders for the Fréchet distances (docs/design.md §6). No pretrained network can be
// downloaded, so dfbench brings two, reported by name and never called FID/FVD:
//   fd_self   — an autoencoder's bottleneck, trained by `dfbench encoder train` on a
//               dataset's training split and saved as an HDF5 file;
//   fd_random — the same encoder with fixed random weights from a seed: training-free.
// Architecture (version 1): three 4×4 stride-2 convolutions (base, 2·base, 4·base
// channels, SiLU) and a linear map to `dim` features; frames in [−½, ½]. Height and
// width must be multiples of 8. Every encoder carries a content hash of its
// architecture and weights, which every result computed with it names.
#pragma once
#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "formats/clips.h"

namespace dfb {

constexpr int64_t kEncoderVersion = 1;

struct EncoderOptions {
  int64_t dim = 12;   // features per frame; a Fréchet distance needs dim + 1 samples a side, a window
                      // one 2·dim + 1: 12 lets the smoke preset's 32 rollouts give full-rank covariances
  int64_t base = 8;   // channels of the first convolution
};

struct EncoderInfo {
  std::string name;          // "fd_self" or "fd_random"
  int64_t version = kEncoderVersion;
  std::string hash;          // "fnv1a64:<16 hex digits>" of architecture and weights
  int64_t height = 0, width = 0, channels = 0;
  EncoderOptions options;
  uint64_t seed = 0;         // initial weights (and, for fd_self, the training batches)
  std::string trained_on;    // fd_self: the data file it was trained on
  int64_t steps = 0;         // fd_self: training steps
  double final_loss = 0;     // fd_self: reconstruction MSE of the last steps
  nlohmann::json to_json() const;
};

class FrameEncoder {
 public:
  // The training-free encoder: weights drawn from `seed` (the same on every platform).
  static FrameEncoder random(int64_t height, int64_t width, int64_t channels, const EncoderOptions& options,
                             uint64_t seed);
  // Throws dfb::Error naming the file: missing, not an encoder, another version, tampered weights.
  static FrameEncoder load(const std::string& path);
  void save(const std::string& path) const;  // atomic

  // uint8 frames [n, H, W, C] (contiguous) → features [n, dim] float64, in batches.
  torch::Tensor features(const uint8_t* frames, int64_t n, int64_t batch = 256) const;
  const EncoderInfo& info() const { return info_; }

  FrameEncoder(FrameEncoder&&) noexcept;
  FrameEncoder& operator=(FrameEncoder&&) noexcept;
  ~FrameEncoder();

 private:
  struct Net;
  FrameEncoder(std::unique_ptr<Net> net, EncoderInfo info);
  void rehash();
  std::unique_ptr<Net> net_;
  EncoderInfo info_;
  friend FrameEncoder train_encoder(const Clips&, const std::string&, const struct EncoderTrainOptions&);
};

struct EncoderTrainOptions {
  EncoderOptions net;
  int64_t steps = 3000;
  int64_t batch = 64;     // frames per step, drawn at random from all clips
  double lr = 2e-3;       // AdamW, cosine decay to 0
  uint64_t seed = 0;
  bool quiet = false;     // no progress bar
};

// Trains the autoencoder (the encoder above and a mirrored transposed-convolution
// decoder, pixel MSE) on every frame of `train`; `source` names the data in the info.
FrameEncoder train_encoder(const Clips& train, const std::string& source, const EncoderTrainOptions& options);

}  // namespace dfb

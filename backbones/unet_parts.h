// Building blocks the U-Net backbones share (unet3d, convgru): the level embedding's
// sinusoidal features, the FiLM residual block, and multi-head self-attention.
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <vector>

namespace dfb {

class JsonReader;

// The options both U-Nets share (docs/design.md §3).
struct UNetOptions {
  int64_t base = 32;                       // channels at full resolution
  std::vector<int64_t> mults = {1, 2, 4};  // channel multiplier per resolution level
  int64_t res_blocks = 2;                  // residual blocks per level (the up path has one more)
  bool spatial_attention = true;           // self-attention over pixels at the lowest resolution
  int64_t heads = 4;
  int64_t groups = 8;                      // GroupNorm groups
};
// Reads and checks them (keys base, mults, res_blocks, spatial_attention, heads, groups) for
// frames of image_size²; returns false when a check failed (the errors are in r).
bool read_unet_options(JsonReader& r, UNetOptions& o, int64_t image_size);

// Sinusoidal features [M, dim] of levels ℓ/N (any shape, flattened; scaled by 1000 as for integer timesteps).
torch::Tensor level_features(const torch::Tensor& levels, int64_t dim);

torch::nn::Conv2d conv3x3(int64_t cin, int64_t cout, int64_t stride = 1);
// Zero weights and bias: a residual branch that starts as the identity.
void zero_init(torch::nn::Conv2d& c);
void zero_init(torch::nn::Linear& l);

// GroupNorm → SiLU → conv → GroupNorm → FiLM(level embedding) → SiLU → conv, plus a skip
// (each normalization and its activation one operation: backbones/group_norm_silu.h).
// x [N, cin, H, W], emb [N, emb_dim] → [N, cout, H, W].
struct ResBlockImpl : torch::nn::Module {
  ResBlockImpl(int64_t cin, int64_t cout, int64_t emb_dim, int64_t groups);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& emb);
  torch::nn::GroupNorm norm1;
  torch::nn::Conv2d conv1;
  torch::nn::Linear film;
  torch::nn::GroupNorm norm2;
  torch::nn::Conv2d conv2;
  torch::nn::Conv2d skip{nullptr};
};
TORCH_MODULE(ResBlock);

// Keys and values of earlier positions ([N, heads, P, d], positions applied), kept by
// temporal attention for history caching.
struct KeyValues {
  torch::Tensor k, v;
};

// Multi-head self-attention over tokens [N, L, C] (the caller adds the residual);
// `rotary`: queries and keys carry rotary positions over L. With `prefix`, the tokens
// follow the positions whose keys and values it holds; `record` receives this call's.
struct SelfAttentionImpl : torch::nn::Module {
  SelfAttentionImpl(int64_t channels, int64_t heads, bool rotary = false);
  torch::Tensor forward(const torch::Tensor& tokens, bool causal, const KeyValues* prefix = nullptr,
                        KeyValues* record = nullptr);
  int64_t heads;
  bool use_rotary;
  torch::nn::Linear qkv, proj;
};
TORCH_MODULE(SelfAttention);

// Attention across the pixels of each frame (residual included): h [N, C, H, W].
struct SpatialAttentionImpl : torch::nn::Module {
  SpatialAttentionImpl(int64_t channels, int64_t heads, int64_t groups);
  torch::Tensor forward(const torch::Tensor& h);
  torch::nn::GroupNorm norm;
  SelfAttention attn;
};
TORCH_MODULE(SpatialAttention);

}  // namespace dfb

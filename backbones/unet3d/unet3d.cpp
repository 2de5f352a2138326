// unet3d (docs/design.md §3): a 2D U-Net applied to every frame, with temporal
// self-attention across frames (optionally causal) and each frame's noise level
// applied by FiLM in every residual block. Registered as backbone "unet3d".
#include <torch/torch.h>

#include <cmath>
#include <limits>

#include "backbones/backbone.h"
#include "tensor/compat.h"
#include "base/error.h"
#include "base/json_reader.h"
#include "base/registry.h"
#include "backbones/unet_parts.h"
#include "backbones/group_norm_silu.h"

namespace dfb {
namespace {

struct UNet3dOptions : UNetOptions {
  std::vector<int64_t> temporal_res;  // resolutions with temporal attention; empty = every level
  std::string position = "rotary";    // frame position in temporal attention: rotary | learned
};

// How a forward pass treats history (see backbones/memory.h).
enum class HistoryMode { kNone, kRecord, kAfter };

// Attention across the frames of each pixel, with rotary positions (relative) or a
// learned position per frame index within the window (absolute).
struct TemporalAttentionImpl : torch::nn::Module {
  TemporalAttentionImpl(int64_t channels, int64_t heads, int64_t groups, int64_t max_frames, bool learned_position)
      : norm(register_module("norm", torch::nn::GroupNorm(groups, channels))),
        attn(register_module("attn", SelfAttention(channels, heads, /*rotary=*/!learned_position))) {
    if (learned_position) position = register_parameter("position", torch::randn({max_frames, channels}) * 0.02);
  }
  // h: [B·T, C, H, W]. kRecord keeps this call's keys and values in `history`; kAfter
  // treats the T frames as following the history kept there.
  torch::Tensor forward(const torch::Tensor& h, int64_t b, int64_t t, bool causal,
                        HistoryMode mode = HistoryMode::kNone, KeyValues* history = nullptr) {
    const int64_t c = h.size(1), hh = h.size(2), ww = h.size(3);
    const int64_t first = mode == HistoryMode::kAfter ? history->k.size(2) : 0;
    torch::Tensor x = group_norm(h, norm).reshape({b, t, c, hh, ww}).permute({0, 3, 4, 1, 2}).reshape({b * hh * ww, t, c});
    if (position.defined()) x = x + position.slice(0, first, first + t).unsqueeze(0);
    x = attn(x, causal, mode == HistoryMode::kAfter ? history : nullptr, mode == HistoryMode::kRecord ? history : nullptr);
    return h + x.reshape({b, hh, ww, t, c}).permute({0, 3, 4, 1, 2}).reshape({b * t, c, hh, ww});
  }
  torch::nn::GroupNorm norm;
  torch::Tensor position;
  SelfAttention attn;
};
TORCH_MODULE(TemporalAttention);

class UNet3d : public BackboneImpl {
 public:
  UNet3d(const UNet3dOptions& o, const BackboneShape& shape) : o_(o), shape_(shape) {
    const int64_t emb = 4 * o.base, depth = static_cast<int64_t>(o.mults.size());  // U-Net resolutions
    level_mlp_ = register_module("level_mlp", torch::nn::Sequential(torch::nn::Linear(o.base, emb), torch::nn::SiLU(),
                                                                    torch::nn::Linear(emb, emb)));
    conv_in_ = register_module("conv_in", conv3x3(shape.channels, o.base));
    auto temporal_here = [&](int64_t level) {
      const int64_t res = shape.image_size >> level;
      return o.temporal_res.empty() ||
             std::find(o.temporal_res.begin(), o.temporal_res.end(), res) != o.temporal_res.end();
    };
    auto temporal = [&](const std::string& name, int64_t ch) {
      ++temporal_layers_;
      return register_module(name, TemporalAttention(ch, o.heads, o.groups, shape.max_frames, o.position == "learned"));
    };

    int64_t ch = o.base;
    std::vector<int64_t> skip_ch = {ch};
    for (int64_t i = 0; i < depth; ++i) {
      const int64_t cout = o.base * o.mults[i];
      for (int64_t j = 0; j < o.res_blocks; ++j) {
        down_res_.push_back(register_module(name("down", i, j), ResBlock(ch, cout, emb, o.groups)));
        ch = cout;
        skip_ch.push_back(ch);
      }
      down_temporal_.push_back(temporal_here(i) ? temporal(name("down", i, -1) + "temporal", ch) : nullptr);
      if (i + 1 < depth) {
        downsample_.push_back(register_module(name("down", i, -1) + "sample", conv3x3(ch, ch, 2)));
        skip_ch.push_back(ch);
      }
    }
    mid_res1_ = register_module("mid_res1", ResBlock(ch, ch, emb, o.groups));
    if (o.spatial_attention) mid_spatial_ = register_module("mid_spatial", SpatialAttention(ch, o.heads, o.groups));
    mid_temporal_ = temporal("mid_temporal", ch);
    mid_res2_ = register_module("mid_res2", ResBlock(ch, ch, emb, o.groups));
    for (int64_t i = depth - 1; i >= 0; --i) {
      const int64_t cout = o.base * o.mults[i];
      for (int64_t j = 0; j <= o.res_blocks; ++j) {
        up_res_.push_back(register_module(name("up", i, j), ResBlock(ch + skip_ch.back(), cout, emb, o.groups)));
        skip_ch.pop_back();
        ch = cout;
      }
      up_temporal_.push_back(temporal_here(i) ? temporal(name("up", i, -1) + "temporal", ch) : nullptr);
      if (i > 0) upsample_.push_back(register_module(name("up", i, -1) + "sample", conv3x3(ch, ch)));
    }
    norm_out_ = register_module("norm_out", torch::nn::GroupNorm(o.groups, ch));
    conv_out_ = register_module("conv_out", conv3x3(ch, shape.channels));
    zero_init(conv_out_);
    for (auto& p : parameters())
      if (p.dim() == 4) p.set_data(p.data().contiguous(at::MemoryFormat::ChannelsLast));
  }

  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& levels) override {
    return run(x, levels, HistoryMode::kNone, nullptr);
  }

  std::unique_ptr<BackboneMemory> make_memory() override;
  // The keys and values of each temporal layer (call order) for the history frames.
  struct Cache {
    std::vector<KeyValues> layers;
    int64_t frames = 0, batch = 0;
  };
  // forward() with the history: kRecord fills `cache` from x (the history), kAfter treats
  // x as following the history it holds.
  torch::Tensor run_with(const torch::Tensor& x, const torch::Tensor& levels, HistoryMode mode, Cache& cache) {
    if (mode == HistoryMode::kRecord) {
      cache.layers.assign(temporal_layers_, KeyValues{});
      cache.frames = 0;
      torch::Tensor y = run(x, levels, mode, &cache);
      cache.frames = x.size(1);
      cache.batch = x.size(0);
      return y;
    }
    if (cache.frames == 0) throw Error("unet3d: a memory must be assigned a history before it is asked about frames after it");
    return run(x, levels, mode, &cache);
  }

  bool causal() const override { return shape_.causal; }
  int64_t max_frames() const override { return shape_.max_frames; }

 private:
  torch::Tensor run(const torch::Tensor& x, const torch::Tensor& levels, HistoryMode mode, Cache* cache) {
    const int64_t b = x.size(0), t = x.size(1), c = x.size(2), hh = x.size(3), ww = x.size(4);
    const int64_t window = t + (mode == HistoryMode::kAfter ? cache->frames : 0);
    if (mode == HistoryMode::kAfter && b != cache->batch)
      throw Error("unet3d: asked about a batch of " + std::to_string(b) + " after a history of a batch of " +
                  std::to_string(cache->batch));
    if (window > shape_.max_frames || c != shape_.channels || hh != shape_.image_size || ww != shape_.image_size)
      throw Error("unet3d: input [" + std::to_string(b) + ", " + std::to_string(t) + ", " + std::to_string(c) + ", " +
                  std::to_string(hh) + ", " + std::to_string(ww) + "] does not fit this model (at most " +
                  std::to_string(shape_.max_frames) + " frames of " + std::to_string(shape_.channels) + "x" +
                  std::to_string(shape_.image_size) + "x" + std::to_string(shape_.image_size) + ")");
    const bool causal = shape_.causal;
    size_t layer = 0;  // temporal layers in call order, for the history cache
    auto temporal = [&](TemporalAttention& m, const torch::Tensor& in) {
      KeyValues* kv = mode == HistoryMode::kNone ? nullptr : &cache->layers[layer];
      ++layer;
      return m->forward(in, b, t, causal, mode, kv);
    };
    torch::Tensor emb = level_mlp_->forward(level_features(levels.reshape({-1}).to(x.dtype()), o_.base));
    torch::Tensor h = conv_in_(x.reshape({b * t, c, hh, ww}).contiguous(at::MemoryFormat::ChannelsLast));
    std::vector<torch::Tensor> skips = {h};
    const int64_t depth = static_cast<int64_t>(o_.mults.size());  // U-Net resolutions
    size_t r = 0;
    for (int64_t i = 0; i < depth; ++i) {
      for (int64_t j = 0; j < o_.res_blocks; ++j) {
        h = down_res_[r++]->forward(h, emb);
        skips.push_back(h);
      }
      if (down_temporal_[i]) {
        h = temporal(down_temporal_[i], h);
        skips.back() = h;
      }
      if (i + 1 < depth) {
        h = downsample_[i](h);
        skips.push_back(h);
      }
    }
    h = mid_res1_->forward(h, emb);
    if (mid_spatial_) h = mid_spatial_->forward(h);
    h = temporal(mid_temporal_, h);
    h = mid_res2_->forward(h, emb);
    r = 0;
    for (int64_t k = 0; k < depth; ++k) {
      for (int64_t j = 0; j <= o_.res_blocks; ++j) {
        h = up_res_[r++]->forward(torch::cat({h, skips.back()}, 1), emb);
        skips.pop_back();
      }
      if (up_temporal_[k]) h = temporal(up_temporal_[k], h);
      if (k + 1 < depth)
        h = upsample_[k](torch::nn::functional::interpolate(
            h, torch::nn::functional::InterpolateFuncOptions().scale_factor(std::vector<double>{2, 2}).mode(
                   torch::kNearest)));
    }
    h = conv_out_(group_norm_silu(h, norm_out_));
    return h.reshape({b, t, c, hh, ww});
  }

  static std::string name(const char* path, int64_t level, int64_t block) {
    std::string s = std::string(path) + std::to_string(level) + "_";
    return block >= 0 ? s + "res" + std::to_string(block) : s;
  }

  UNet3dOptions o_;
  BackboneShape shape_;
  torch::nn::Sequential level_mlp_{nullptr};
  torch::nn::Conv2d conv_in_{nullptr};
  std::vector<ResBlock> down_res_, up_res_;
  std::vector<TemporalAttention> down_temporal_, up_temporal_;
  std::vector<torch::nn::Conv2d> downsample_, upsample_;
  ResBlock mid_res1_{nullptr}, mid_res2_{nullptr};
  SpatialAttention mid_spatial_{nullptr};
  TemporalAttention mid_temporal_{nullptr};
  size_t temporal_layers_ = 0;  // temporal attention layers (the memory keeps one KeyValues each)
  torch::nn::GroupNorm norm_out_{nullptr};
  torch::nn::Conv2d conv_out_{nullptr};
};

// The KV cache of a causal unet3d: the history's keys and values, per temporal layer.
class UNet3dMemory : public BackboneMemory {
 public:
  explicit UNet3dMemory(UNet3d& net) : net_(net) {}
  void assign(const torch::Tensor& x, const torch::Tensor& levels) override {
    net_.run_with(x, levels, HistoryMode::kRecord, cache_);
  }
  void extend(const torch::Tensor&, const torch::Tensor&) override {
    throw Error("unet3d: its memory holds a window of history; assign the next window instead of extending it");
  }
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& levels) override {
    return net_.run_with(x, levels, HistoryMode::kAfter, cache_);
  }
  int64_t frames() const override { return cache_.frames; }

 private:
  UNet3d& net_;
  UNet3d::Cache cache_;
};

std::unique_ptr<BackboneMemory> UNet3d::make_memory() {
  if (!shape_.causal) return nullptr;  // bidirectional: every call sees the whole window
  return std::make_unique<UNet3dMemory>(*this);
}

Backbone make_unet3d(JsonReader& r, const BackboneShape& shape) {
  UNet3dOptions o;
  bool ok = read_unet_options(r, o, shape.image_size);
  r.get("temporal_res", o.temporal_res).get_choice("position", o.position, {"rotary", "learned"});
  bool causal = shape.causal;
  r.get("causal", causal);
  ok = r.check(causal || !shape.causal, "causal", "this method needs a causal backbone") && ok;
  r.finish();
  if (!ok) return nullptr;
  BackboneShape s = shape;
  s.causal = causal;
  return std::make_shared<UNet3d>(o, s);
}

Registrar<BackboneFactory> reg("unet3d",
                               "2D U-Net per frame + temporal self-attention (causal option), FiLM level per frame",
                               BackboneFactory{&make_unet3d});

}  // namespace
}  // namespace dfb

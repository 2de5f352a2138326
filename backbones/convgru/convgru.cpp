// convgru (docs/design.md §3): the Diffusion Forcing paper's recurrent backbone. Per frame,
//   u_t = UNet2D([x_t ; z_{t−1}], emb(ℓ_t)),   z_t = ConvGRU(u_t, z_{t−1}),   prediction_t = head(z_t),
// with z_0 = 0. Causal by construction; a rollout carries z instead of a window, so its
// memory does not grow with the rollout's length. Registered as backbone "convgru".
#include <torch/torch.h>

#include "backbones/backbone.h"
#include "base/error.h"
#include "base/json_reader.h"
#include "base/registry.h"
#include "backbones/unet_parts.h"
#include "backbones/group_norm_silu.h"

namespace dfb {
namespace {

struct ConvGruOptions : UNetOptions {
  int64_t state = 0;  // channels of z (0 = base)
  ConvGruOptions() {
    mults = {1, 2, 2};
    res_blocks = 1;
  }
};

// A convolutional GRU cell: gates and candidate from 3×3 convolutions of [u ; z].
struct GruCellImpl : torch::nn::Module {
  GruCellImpl(int64_t input, int64_t state)
      : gates(register_module("gates", conv3x3(input + state, 2 * state))),
        candidate(register_module("candidate", conv3x3(input + state, state))) {}
  torch::Tensor forward(const torch::Tensor& u, const torch::Tensor& z) {
    auto rz = torch::sigmoid(gates(torch::cat({u, z}, 1))).chunk(2, 1);  // reset r, update k
    torch::Tensor n = torch::tanh(candidate(torch::cat({u, rz[0] * z}, 1)));
    return (1 - rz[1]) * n + rz[1] * z;
  }
  torch::nn::Conv2d gates, candidate;
};
TORCH_MODULE(GruCell);

class ConvGru : public BackboneImpl {
 public:
  ConvGru(const ConvGruOptions& o, const BackboneShape& shape) : o_(o), shape_(shape) {
    const int64_t emb = 4 * o.base, depth = static_cast<int64_t>(o.mults.size());  // U-Net resolutions
    state_ = o.state > 0 ? o.state : o.base;
    level_mlp_ = register_module("level_mlp", torch::nn::Sequential(torch::nn::Linear(o.base, emb), torch::nn::SiLU(),
                                                                    torch::nn::Linear(emb, emb)));
    conv_in_ = register_module("conv_in", conv3x3(shape.channels + state_, o.base));
    int64_t ch = o.base;
    std::vector<int64_t> skip_ch = {ch};
    for (int64_t i = 0; i < depth; ++i) {
      const int64_t cout = o.base * o.mults[i];
      for (int64_t j = 0; j < o.res_blocks; ++j) {
        down_res_.push_back(register_module(block_name("down", i, j), ResBlock(ch, cout, emb, o.groups)));
        ch = cout;
        skip_ch.push_back(ch);
      }
      if (i + 1 < depth) {
        downsample_.push_back(register_module(block_name("down", i, -1) + "sample", conv3x3(ch, ch, 2)));
        skip_ch.push_back(ch);
      }
    }
    mid_res1_ = register_module("mid_res1", ResBlock(ch, ch, emb, o.groups));
    if (o.spatial_attention) mid_spatial_ = register_module("mid_spatial", SpatialAttention(ch, o.heads, o.groups));
    mid_res2_ = register_module("mid_res2", ResBlock(ch, ch, emb, o.groups));
    for (int64_t i = depth - 1; i >= 0; --i) {
      const int64_t cout = o.base * o.mults[i];
      for (int64_t j = 0; j <= o.res_blocks; ++j) {
        up_res_.push_back(register_module(block_name("up", i, j), ResBlock(ch + skip_ch.back(), cout, emb, o.groups)));
        skip_ch.pop_back();
        ch = cout;
      }
      if (i > 0) upsample_.push_back(register_module(block_name("up", i, -1) + "sample", conv3x3(ch, ch)));
    }
    unet_norm_ = register_module("unet_norm", torch::nn::GroupNorm(o.groups, ch));
    unet_out_ = register_module("unet_out", conv3x3(ch, state_));
    gru_ = register_module("gru", GruCell(state_, state_));
    head_norm_ = register_module("head_norm", torch::nn::GroupNorm(std::min(o.groups, state_), state_));
    head_ = register_module("head", conv3x3(state_, shape.channels));
    zero_init(head_);
  }

  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& levels) override {
    torch::Tensor z;
    return run(x, levels, z);
  }

  bool recurrent() const override { return true; }
  std::unique_ptr<BackboneMemory> make_memory() override;

  bool causal() const override { return true; }
  int64_t max_frames() const override { return shape_.max_frames; }

 private:
  friend class ConvGruMemory;
  // Runs the frames of x [B, T, C, H, W] in order from state z (undefined = zeros), leaving
  // the state after the last frame in z; returns the predictions [B, T, C, H, W].
  torch::Tensor run(const torch::Tensor& x, const torch::Tensor& levels, torch::Tensor& z) {
    const int64_t b = x.size(0), t = x.size(1), c = x.size(2), hh = x.size(3), ww = x.size(4);
    if (c != shape_.channels || hh != shape_.image_size || ww != shape_.image_size)
      throw Error("convgru: input [" + std::to_string(b) + ", " + std::to_string(t) + ", " + std::to_string(c) + ", " +
                  std::to_string(hh) + ", " + std::to_string(ww) + "] does not fit this model (frames of " +
                  std::to_string(shape_.channels) + "x" + std::to_string(shape_.image_size) + "x" +
                  std::to_string(shape_.image_size) + ")");
    if (!z.defined()) z = torch::zeros({b, state_, hh, ww}, x.options());
    // The level embedding of every frame at once; the U-Net and the cell run frame by frame.
    torch::Tensor emb = level_mlp_->forward(level_features(levels.reshape({-1}).to(x.dtype()), o_.base)).reshape({b, t, -1});
    std::vector<torch::Tensor> out;
    out.reserve(t);
    for (int64_t i = 0; i < t; ++i) {
      torch::Tensor u = unet(torch::cat({x.select(1, i), z}, 1), emb.select(1, i));
      z = gru_->forward(u, z);
      out.push_back(head_(group_norm_silu(z, head_norm_)));
    }
    return torch::stack(out, 1);
  }

  torch::Tensor unet(const torch::Tensor& in, const torch::Tensor& emb) {
    torch::Tensor h = conv_in_(in);
    std::vector<torch::Tensor> skips = {h};
    const int64_t depth = static_cast<int64_t>(o_.mults.size());  // U-Net resolutions
    size_t r = 0;
    for (int64_t i = 0; i < depth; ++i) {
      for (int64_t j = 0; j < o_.res_blocks; ++j) {
        h = down_res_[r++]->forward(h, emb);
        skips.push_back(h);
      }
      if (i + 1 < depth) {
        h = downsample_[i](h);
        skips.push_back(h);
      }
    }
    h = mid_res1_->forward(h, emb);
    if (mid_spatial_) h = mid_spatial_->forward(h);
    h = mid_res2_->forward(h, emb);
    r = 0;
    for (int64_t k = 0; k < depth; ++k) {
      for (int64_t j = 0; j <= o_.res_blocks; ++j) {
        h = up_res_[r++]->forward(torch::cat({h, skips.back()}, 1), emb);
        skips.pop_back();
      }
      if (k + 1 < depth)
        h = upsample_[k](torch::nn::functional::interpolate(
            h, torch::nn::functional::InterpolateFuncOptions().scale_factor(std::vector<double>{2, 2}).mode(
                   torch::kNearest)));
    }
    return unet_out_(group_norm_silu(h, unet_norm_));
  }

  static std::string block_name(const char* path, int64_t level, int64_t block) {
    std::string s = std::string(path) + std::to_string(level) + "_";
    return block >= 0 ? s + "res" + std::to_string(block) : s;
  }

  ConvGruOptions o_;
  BackboneShape shape_;
  int64_t state_ = 0;
  torch::nn::Sequential level_mlp_{nullptr};
  torch::nn::Conv2d conv_in_{nullptr};
  std::vector<ResBlock> down_res_, up_res_;
  std::vector<torch::nn::Conv2d> downsample_, upsample_;
  ResBlock mid_res1_{nullptr}, mid_res2_{nullptr};
  SpatialAttention mid_spatial_{nullptr};
  torch::nn::GroupNorm unet_norm_{nullptr};
  torch::nn::Conv2d unet_out_{nullptr};
  GruCell gru_{nullptr};
  torch::nn::GroupNorm head_norm_{nullptr};
  torch::nn::Conv2d head_{nullptr};
};

// The recurrent state of convgru after the history frames: assign() runs them from a zero
// state, extend() runs more from the state held, forward() reads on without changing it.
class ConvGruMemory : public BackboneMemory {
 public:
  explicit ConvGruMemory(ConvGru& net) : net_(net) {}
  void assign(const torch::Tensor& x, const torch::Tensor& levels) override {
    state_ = torch::Tensor();
    net_.run(x, levels, state_);
    frames_ = x.size(1);
  }
  void extend(const torch::Tensor& x, const torch::Tensor& levels) override {
    need_state(x);
    net_.run(x, levels, state_);
    frames_ += x.size(1);
  }
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& levels) override {
    need_state(x);
    torch::Tensor z = state_;
    return net_.run(x, levels, z);
  }
  int64_t frames() const override { return frames_; }

 private:
  void need_state(const torch::Tensor& x) const {
    if (!state_.defined()) throw Error("convgru: a memory must be assigned a history before it is extended or read");
    if (x.size(0) != state_.size(0))
      throw Error("convgru: got a batch of " + std::to_string(x.size(0)) + ", the history has " +
                  std::to_string(state_.size(0)));
  }
  ConvGru& net_;
  torch::Tensor state_;  // z after the history frames (undefined: none yet)
  int64_t frames_ = 0;
};

std::unique_ptr<BackboneMemory> ConvGru::make_memory() { return std::make_unique<ConvGruMemory>(*this); }

Backbone make_convgru(JsonReader& r, const BackboneShape& shape) {
  ConvGruOptions o;
  bool ok = read_unet_options(r, o, shape.image_size);
  r.get("state", o.state);
  ok = r.check(shape.causal, "name", "convgru is causal; this method needs bidirectional attention (use unet3d)") && ok;
  ok = r.check(o.state >= 0 && (o.state == 0 || o.state % std::min(o.groups, o.state) == 0), "state",
               "must be >= 0 (0 = base) and divisible by groups") && ok;
  r.finish();
  if (!ok) return nullptr;
  return std::make_shared<ConvGru>(o, shape);
}

Registrar<BackboneFactory> reg("convgru",
                               "the Diffusion Forcing paper's RNN: U-Net per frame into a conv GRU state, causal, "
                               "rollouts carry the state instead of a window",
                               BackboneFactory{&make_convgru});

}  // namespace
}  // namespace dfb

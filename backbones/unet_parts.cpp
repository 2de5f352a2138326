#include "backbones/unet_parts.h"
#include "backbones/group_norm_silu.h"

#include <torch/torch.h>

#include <cmath>
#include <limits>

#include "backbones/backbone.h"
#include "tensor/compat.h"
#include "base/json_reader.h"

namespace dfb {

bool read_unet_options(JsonReader& r, UNetOptions& o, int64_t image_size) {
  r.get("base", o.base)
      .get("mults", o.mults)
      .get("res_blocks", o.res_blocks)
      .get("spatial_attention", o.spatial_attention)
      .get("heads", o.heads)
      .get("groups", o.groups);
  bool ok = r.check(o.base >= 1 && o.groups >= 1 && o.base % o.groups == 0, "base", "must be a positive multiple of groups");
  ok = r.check(!o.mults.empty(), "mults", "must list at least one level") && ok;
  for (int64_t m : o.mults) ok = r.check(m >= 1, "mults", "entries must be >= 1") && ok;
  ok = r.check(o.res_blocks >= 1, "res_blocks", "must be >= 1") && ok;
  ok = r.check(o.heads >= 1 && o.base % o.heads == 0, "heads", "must divide base") && ok;
  if (!o.mults.empty()) {
    const int64_t scale = int64_t{1} << (o.mults.size() - 1);
    ok = r.check(image_size % scale == 0, "mults",
                 std::to_string(o.mults.size()) + " levels need an image size divisible by " + std::to_string(scale)) &&
         ok;
  }
  return ok;
}

torch::Tensor level_features(const torch::Tensor& levels, int64_t dim) {
  const int64_t half = dim / 2;
  torch::Tensor freqs =
      torch::exp(-std::log(10000.0) * torch::arange(half, levels.options()) / static_cast<double>(half));
  torch::Tensor args = levels.reshape({-1, 1}) * 1000.0 * freqs.reshape({1, -1});
  return torch::cat({torch::sin(args), torch::cos(args)}, 1);
}

torch::nn::Conv2d conv3x3(int64_t cin, int64_t cout, int64_t stride) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(cin, cout, 3).stride(stride).padding(1));
}

void zero_init(torch::nn::Conv2d& c) {
  torch::NoGradGuard g;
  c->weight.zero_();
  c->bias.zero_();
}

void zero_init(torch::nn::Linear& l) {
  torch::NoGradGuard g;
  l->weight.zero_();
  l->bias.zero_();
}

ResBlockImpl::ResBlockImpl(int64_t cin, int64_t cout, int64_t emb_dim, int64_t groups)
    : norm1(register_module("norm1", torch::nn::GroupNorm(groups, cin))),
      conv1(register_module("conv1", conv3x3(cin, cout))),
      film(register_module("film", torch::nn::Linear(emb_dim, 2 * cout))),
      norm2(register_module("norm2", torch::nn::GroupNorm(groups, cout))),
      conv2(register_module("conv2", conv3x3(cout, cout))) {
  if (cin != cout) skip = register_module("skip", torch::nn::Conv2d(torch::nn::Conv2dOptions(cin, cout, 1)));
  zero_init(conv2);
}

torch::Tensor ResBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& emb) {
  torch::Tensor h = conv1(group_norm_silu(x, norm1));
  auto ss = film(torch::silu(emb)).chunk(2, 1);  // scale, shift [N, cout]
  h = conv2(group_norm_silu(h, norm2, ss[0], ss[1]));
  return (skip ? skip(x) : x) + h;
}

SelfAttentionImpl::SelfAttentionImpl(int64_t channels, int64_t heads, bool rotary)
    : heads(heads),
      use_rotary(rotary),
      qkv(register_module("qkv", torch::nn::Linear(channels, 3 * channels))),
      proj(register_module("proj", torch::nn::Linear(channels, channels))) {
  zero_init(proj);
}

torch::Tensor SelfAttentionImpl::forward(const torch::Tensor& tokens, bool causal, const KeyValues* prefix,
                                         KeyValues* record) {
  const int64_t n = tokens.size(0), l = tokens.size(1), c = tokens.size(2);
  auto qkv_heads = qkv(tokens).reshape({n, l, 3, heads, c / heads}).permute({2, 0, 3, 1, 4});
  torch::Tensor q = qkv_heads[0], k = qkv_heads[1], v = qkv_heads[2];
  const int64_t first = prefix ? prefix->k.size(2) : 0;
  if (use_rotary) {
    q = rotary_positions(q, first);
    k = rotary_positions(k, first);
  }
  if (record) *record = {k, v};
  torch::Tensor o = prefix ? attention(q, torch::cat({prefix->k, k}, 2), torch::cat({prefix->v, v}, 2), causal)
                           : attention(q, k, v, causal);
  return proj(o.permute({0, 2, 1, 3}).reshape({n, l, c}));
}

SpatialAttentionImpl::SpatialAttentionImpl(int64_t channels, int64_t heads, int64_t groups)
    : norm(register_module("norm", torch::nn::GroupNorm(groups, channels))),
      attn(register_module("attn", SelfAttention(channels, heads))) {}

torch::Tensor SpatialAttentionImpl::forward(const torch::Tensor& h) {
  const int64_t n = h.size(0), c = h.size(1), hh = h.size(2), ww = h.size(3);
  torch::Tensor x = group_norm(h, norm).flatten(2).transpose(1, 2);  // [N, HW, C]
  x = attn(x, /*causal=*/false);
  return h + x.transpose(1, 2).reshape({n, c, hh, ww});
}

}  // namespace dfb

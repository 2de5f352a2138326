#include "backbones/group_norm_silu.h"

#include <torch/torch.h>

#include "backbones/group_norm_silu_cpu.h"

namespace dfb {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

// z = a·x + b per (sample, channel), the normalization and FiLM folded into a and b [N, C]
// (float32): a = r·γ·(1 + s), b = (β − μ·r·γ)·(1 + s) + t, with the group's mean μ and
// inverse standard deviation r.
struct Folded {
  torch::Tensor a, b, mean, rstd;  // [N, C], [N, C], [N, G], [N, G]
};

torch::Tensor per_channel(const torch::Tensor& t, int64_t c) { return t.unsqueeze(-1).expand({t.size(0), t.size(1), c}); }

Folded fold(const torch::Tensor& x, int64_t groups, double eps, const torch::Tensor& gamma, const torch::Tensor& beta,
            const torch::Tensor& s1, const torch::Tensor& t) {
  const int64_t n = x.size(0), c = x.size(1), d = c / groups;
  // Per channel first, mean and mean square (plain sums over H and W: LibTorch vectorizes them
  // across the channels of a channels-last tensor, where var_mean's Welford reduction is three
  // times slower), then per group: var = E[x²] − E[x]² (float32 sums are pairwise; the
  // cancellation costs ~1e-7·mean²/var relative).
  const torch::Tensor xf = x.scalar_type() == torch::kFloat ? x : x.to(torch::kFloat);
  const torch::Tensor mean_c = xf.mean({2, 3}), sq_c = (xf * xf).mean({2, 3});  // [N, C]
  const torch::Tensor mean = mean_c.view({n, groups, d}).mean(2);                // [N, G]
  const torch::Tensor var = (sq_c.view({n, groups, d}).mean(2) - mean * mean).clamp_min(0);
  const torch::Tensor rstd = (var + eps).rsqrt();  // [N, G]
  const torch::Tensor r = per_channel(rstd, d).reshape({n, c}), m = per_channel(mean, d).reshape({n, c});
  Folded f;
  f.mean = mean;
  f.rstd = rstd;
  f.a = r * gamma * s1;
  f.b = (beta - m * r * gamma) * s1 + t;
  return f;
}

torch::Tensor spread(const torch::Tensor& nc, const torch::Tensor& like) {
  return nc.to(like.scalar_type()).view({nc.size(0), nc.size(1), 1, 1});
}

class GroupNormSilu : public torch::autograd::Function<GroupNormSilu> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& gamma,
                               const torch::Tensor& beta, const torch::Tensor& scale, const torch::Tensor& shift,
                               int64_t groups, double eps, bool activation) {
    const int64_t n = x.size(0), c = x.size(1);
    const auto f32 = x.options().dtype(torch::kFloat);
    const bool has_scale = scale.numel() > 0, has_shift = shift.numel() > 0;  // empty: none
    const torch::Tensor s1 = has_scale ? scale.to(torch::kFloat) + 1 : torch::ones({n, c}, f32);
    const torch::Tensor t = has_shift ? shift.to(torch::kFloat) : torch::zeros({n, c}, f32);
    // On a CPU where they pay (gn_cpu::preferred), the kernels of group_norm_silu_cpu.h (z
    // recomputed in backward from x, a and b); elsewhere LibTorch's operators, z kept.
    const bool fused = gn_cpu::supported(x) && gn_cpu::preferred();
    Folded f;
    torch::Tensor z, y;
    if (fused) {
      gn_cpu::Forward k = gn_cpu::forward(x, gamma, beta, s1, t, groups, eps, activation);
      y = k.y;
      f = Folded{k.a, k.b, k.mean, k.rstd};
      z = torch::empty({0}, x.options());
    } else {
      f = fold(x, groups, eps, gamma.to(torch::kFloat), beta.to(torch::kFloat), s1, t);
      z = torch::addcmul(spread(f.b, x), x, spread(f.a, x));
      y = activation ? torch::silu(z) : z;
    }
    ctx->save_for_backward({x, z, gamma, beta, s1, f.mean, f.rstd, f.a, f.b});
    ctx->saved_data["fused"] = fused;
    ctx->saved_data["groups"] = groups;
    ctx->saved_data["activation"] = activation;
    ctx->saved_data["scale"] = has_scale;
    ctx->saved_data["shift"] = has_shift;
    ctx->saved_data["scale_type"] = scale.scalar_type();
    ctx->saved_data["shift_type"] = shift.scalar_type();
    return y;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &x = saved[0], &z = saved[1], &gamma = saved[2], &beta = saved[3], &s1 = saved[4],
                        &mean = saved[5], &rstd = saved[6], &a = saved[7], &b = saved[8];
    const int64_t groups = ctx->saved_data["groups"].toInt();
    const int64_t n = x.size(0), c = x.size(1), d = c / groups, p = x.size(2) * x.size(3);
    const bool fused = ctx->saved_data["fused"].toBool(), activation = ctx->saved_data["activation"].toBool();
    if (fused) {
      gn_cpu::Backward k = gn_cpu::backward(x, grads[0], gn_cpu::Forward{{}, a, b, mean, rstd}, gamma, beta, s1, activation);
      torch::Tensor dscale, dshift;
      if (ctx->saved_data["scale"].toBool()) dscale = k.dscale.to(ctx->saved_data["scale_type"].toScalarType());
      if (ctx->saved_data["shift"].toBool()) dshift = k.dshift.to(ctx->saved_data["shift_type"].toScalarType());
      return {k.dx, k.dgamma.to(gamma.scalar_type()), k.dbeta.to(beta.scalar_type()), dscale, dshift,
              torch::Tensor(), torch::Tensor(), torch::Tensor()};
    }
    const torch::Tensor dz = activation ? torch::silu_backward(grads[0], z) : grads[0];
    const torch::Tensor s_dz = dz.sum({2, 3}, false, torch::kFloat);         // Σ_p dz      [N, C]
    const torch::Tensor s_dzx = (dz * x).sum({2, 3}, false, torch::kFloat);  // Σ_p dz·x    [N, C]
    const torch::Tensor r = per_channel(rstd, d).reshape({n, c}), m = per_channel(mean, d).reshape({n, c});
    const torch::Tensor g = gamma.to(torch::kFloat), be = beta.to(torch::kFloat);
    const torch::Tensor s_dzu = r * (s_dzx - m * s_dz);                                   // Σ_p dz·u, u = (x − μ)·r
    // dx = r·(k·dz − mean over the group of k·dz − u · mean over the group of k·dz·u), k = γ(1 + s).
    const torch::Tensor k = g * s1;
    const double count = static_cast<double>(d * p);
    const torch::Tensor m1 = (k * s_dz).view({n, groups, d}).sum(2) / count;              // [N, G]
    const torch::Tensor m2 = (k * s_dzu).view({n, groups, d}).sum(2) / count;
    const torch::Tensor alpha = r * k;
    const torch::Tensor beta_x = per_channel(-rstd * rstd * m2, d).reshape({n, c});
    const torch::Tensor gamma_x = per_channel(rstd * rstd * mean * m2 - rstd * m1, d).reshape({n, c});
    const torch::Tensor dx = torch::addcmul(torch::addcmul(spread(gamma_x, x), x, spread(beta_x, x)), dz, spread(alpha, x));
    const torch::Tensor dgamma = (s1 * s_dzu).sum(0).to(gamma.scalar_type());
    const torch::Tensor dbeta = (s1 * s_dz).sum(0).to(beta.scalar_type());
    torch::Tensor dscale, dshift;
    if (ctx->saved_data["scale"].toBool())
      dscale = (g * s_dzu + be * s_dz).to(ctx->saved_data["scale_type"].toScalarType());
    if (ctx->saved_data["shift"].toBool()) dshift = s_dz.to(ctx->saved_data["shift_type"].toScalarType());
    return {dx, dgamma, dbeta, dscale, dshift, torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

torch::Tensor apply(const torch::Tensor& x, const torch::nn::GroupNorm& norm, const torch::Tensor& scale,
                    const torch::Tensor& shift, bool activation) {
  const auto& o = norm->options;
  // LibTorch 1.13's custom functions take no undefined tensor: "none" travels as an empty one.
  const torch::Tensor none = torch::empty({0}, x.options());
  return GroupNormSilu::apply(x, norm->weight, norm->bias, scale.defined() ? scale : none, shift.defined() ? shift : none,
                              o.num_groups(), o.eps(), activation);
}

}  // namespace

torch::Tensor group_norm_silu(const torch::Tensor& x, const torch::nn::GroupNorm& norm, const torch::Tensor& scale,
                              const torch::Tensor& shift) {
  if (!norm->weight.defined() || x.dim() != 4) return group_norm_silu_reference(x, norm, scale, shift);
  return apply(x, norm, scale, shift, true);
}

torch::Tensor group_norm(const torch::Tensor& x, const torch::nn::GroupNorm& norm) {
  if (!norm->weight.defined() || x.dim() != 4) {
    const auto& o = norm->options;
    return torch::group_norm(x, o.num_groups(), norm->weight, norm->bias, o.eps());
  }
  return apply(x, norm, {}, {}, false);
}

torch::Tensor group_norm_silu_reference(const torch::Tensor& x, const torch::nn::GroupNorm& norm,
                                        const torch::Tensor& scale, const torch::Tensor& shift) {
  const auto& o = norm->options;
  torch::Tensor h = torch::group_norm(x, o.num_groups(), norm->weight, norm->bias, o.eps());
  if (scale.defined()) h = h * (1 + scale.unsqueeze(-1).unsqueeze(-1));
  if (shift.defined()) h = h + shift.unsqueeze(-1).unsqueeze(-1);
  return torch::silu(h);
}

}  // namespace dfb

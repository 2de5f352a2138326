#include "backbones/group_norm_silu_cpu.h"

#include <ATen/Parallel.h>
#include <c10/util/BFloat16.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <type_traits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

// The per-sample loops below are compiled three times on x86-64 with GCC (AVX-512, AVX2+FMA,
// baseline) and the loader picks one for the CPU; the element arithmetic they inline is written
// so the compiler vectorizes it (no calls, no branches: selects, a polynomial exp, bit casts).
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define DFB_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define DFB_CLONES
#endif
#define DFB_INLINE __attribute__((always_inline)) inline

namespace dfb::gn_cpu {
namespace {

using BF16 = c10::BFloat16;

DFB_INLINE uint32_t bits_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}
DFB_INLINE float float_of(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

DFB_INLINE float load(const float* p, int64_t i) { return p[i]; }
DFB_INLINE float load(const BF16* p, int64_t i) { return float_of(static_cast<uint32_t>(p[i].x) << 16); }
DFB_INLINE void store(float* p, int64_t i, float v) { p[i] = v; }
// Round to nearest even, as LibTorch converts; NaN stays a (quiet) NaN.
DFB_INLINE void store(BF16* p, int64_t i, float v) {
  const uint32_t u = bits_of(v);
  const uint32_t rounded = (u + 0x7FFFu + ((u >> 16) & 1u)) >> 16;
  p[i].x = static_cast<uint16_t>(v != v ? 0x7FC0u : rounded);
}

// e^t for t clamped to [-87, 88] (NaN stays NaN): 2^k·e^r with k = round(t/ln 2) taken by the
// 1.5·2^23 rounding trick (the integer is read from the sum's bits, no float-to-int conversion),
// r = t − k·ln 2 in two parts (Cody-Waite), e^r by its Taylor polynomial of degree 7 (|r| ≤ 0.347:
// relative error below 1e-8, under fp32's rounding).
DFB_INLINE float exp_clamped(float t) {
  t = std::min(std::max(t, -87.0f), 88.0f);
  const float magic = 12582912.0f;  // 1.5·2^23: bits 0x4B400000
  const float j = t * 1.44269504088896341f + magic;
  const float k = j - magic;
  const float r = (t - k * 0.693145751953125f) - k * 1.428606765330187e-06f;
  float e = 1.0f / 5040;
  e = e * r + 1.0f / 720;
  e = e * r + 1.0f / 120;
  e = e * r + 1.0f / 24;
  e = e * r + 1.0f / 6;
  e = e * r + 0.5f;
  e = e * r + 1.0f;
  e = e * r + 1.0f;
  const uint32_t scale = (bits_of(j) - 0x4B400000u + 127u) << 23;  // 2^k, k ∈ [−126, 127]
  return e * float_of(scale);
}
DFB_INLINE float sigmoid(float z) { return 1.0f / (1.0f + exp_clamped(-z)); }

template <bool Act>
DFB_INLINE float activate(float z) {
  if constexpr (Act) return z * sigmoid(z);
  return z;
}
// dy·act'(z): silu'(z) = σ(z)·(1 + z·(1 − σ(z))).
template <bool Act>
DFB_INLINE float act_grad(float dy, float z) {
  if constexpr (Act) {
    const float s = sigmoid(z);
    return dy * (s * (1.0f + z * (1.0f - s)));
  }
  return dy;
}

// One sample's geometry: C channels of P pixels, channels-last or not.
struct Sample {
  int64_t c, p;
  bool channels_last;
};
constexpr int64_t kBlock = 64;  // float partial sums over at most this many pixels, then double

// Per channel, Σ(x − k) and Σ(x − k)² with k the channel's first value: shifted so that the
// float partial sums carry the variance, not the mean² it would cancel against (x ≈ 40 ± 3 loses
// five digits of the variance unshifted); double across blocks.
template <class T>
DFB_INLINE void moments_impl(const T* __restrict x, Sample s, float* __restrict shift, double* __restrict sum,
                             double* __restrict sum_sq, float* __restrict part, float* __restrict part_sq) {
  const int64_t C = s.c, P = s.p;
  std::fill(sum, sum + C, 0.0);
  std::fill(sum_sq, sum_sq + C, 0.0);
  if (s.channels_last) {
    for (int64_t c = 0; c < C; ++c) shift[c] = load(x, c);
    for (int64_t p0 = 0; p0 < P; p0 += kBlock) {
      std::fill(part, part + C, 0.0f);
      std::fill(part_sq, part_sq + C, 0.0f);
      for (int64_t p = p0, end = std::min(P, p0 + kBlock); p < end; ++p) {
        const T* __restrict row = x + p * C;
        for (int64_t c = 0; c < C; ++c) {
          const float v = load(row, c) - shift[c];
          part[c] += v;
          part_sq[c] += v * v;
        }
      }
      for (int64_t c = 0; c < C; ++c) {
        sum[c] += part[c];
        sum_sq[c] += part_sq[c];
      }
    }
    return;
  }
  for (int64_t c = 0; c < C; ++c) {
    const T* __restrict plane = x + c * P;
    const float k = shift[c] = load(plane, 0);
    for (int64_t p0 = 0; p0 < P; p0 += kBlock) {
      float a = 0, q = 0;
      const int64_t end = std::min(P, p0 + kBlock);
#pragma omp simd reduction(+ : a, q)
      for (int64_t p = p0; p < end; ++p) {
        const float v = load(plane, p) - k;
        a += v;
        q += v * v;
      }
      sum[c] += a;
      sum_sq[c] += q;
    }
  }
}

template <class T, bool Act>
DFB_INLINE void affine_impl(const T* __restrict x, T* __restrict y, const float* __restrict a,
                            const float* __restrict b, Sample s) {
  const int64_t C = s.c, P = s.p;
  if (s.channels_last) {
    for (int64_t p = 0; p < P; ++p)
      for (int64_t c = 0; c < C; ++c) store(y, p * C + c, activate<Act>(a[c] * load(x, p * C + c) + b[c]));
    return;
  }
  for (int64_t c = 0; c < C; ++c) {
    const float ac = a[c], bc = b[c];
    const T* __restrict plane = x + c * P;
    T* __restrict out = y + c * P;
#pragma omp simd
    for (int64_t p = 0; p < P; ++p) store(out, p, activate<Act>(ac * load(plane, p) + bc));
  }
}

template <class T, bool Act>
DFB_INLINE void sums_impl(const T* __restrict x, const T* __restrict dy, const float* __restrict a,
                          const float* __restrict b, const float* __restrict center, Sample s,
                          double* __restrict sum_dz, double* __restrict sum_dzx,
                          float* __restrict part, float* __restrict part_x) {
  const int64_t C = s.c, P = s.p;
  std::fill(sum_dz, sum_dz + C, 0.0);
  std::fill(sum_dzx, sum_dzx + C, 0.0);
  if (s.channels_last) {
    for (int64_t p0 = 0; p0 < P; p0 += kBlock) {
      std::fill(part, part + C, 0.0f);
      std::fill(part_x, part_x + C, 0.0f);
      for (int64_t p = p0, end = std::min(P, p0 + kBlock); p < end; ++p) {
        for (int64_t c = 0; c < C; ++c) {
          const float v = load(x, p * C + c);
          const float dz = act_grad<Act>(load(dy, p * C + c), a[c] * v + b[c]);
          part[c] += dz;
          part_x[c] += dz * (v - center[c]);
        }
      }
      for (int64_t c = 0; c < C; ++c) {
        sum_dz[c] += part[c];
        sum_dzx[c] += part_x[c];
      }
    }
    return;
  }
  for (int64_t c = 0; c < C; ++c) {
    const float ac = a[c], bc = b[c], mc = center[c];
    const T* __restrict plane = x + c * P;
    const T* __restrict grad = dy + c * P;
    for (int64_t p0 = 0; p0 < P; p0 += kBlock) {
      float t = 0, tx = 0;
      const int64_t end = std::min(P, p0 + kBlock);
#pragma omp simd reduction(+ : t, tx)
      for (int64_t p = p0; p < end; ++p) {
        const float v = load(plane, p);
        const float dz = act_grad<Act>(load(grad, p), ac * v + bc);
        t += dz;
        tx += dz * (v - mc);
      }
      sum_dz[c] += t;
      sum_dzx[c] += tx;
    }
  }
}

template <class T, bool Act>
DFB_INLINE void dx_impl(const T* __restrict x, const T* __restrict dy, const float* __restrict a,
                        const float* __restrict b, const float* __restrict alpha, const float* __restrict beta,
                        const float* __restrict gamma, T* __restrict dx, Sample s) {
  const int64_t C = s.c, P = s.p;
  if (s.channels_last) {
    for (int64_t p = 0; p < P; ++p)
      for (int64_t c = 0; c < C; ++c) {
        const int64_t i = p * C + c;
        const float v = load(x, i);
        const float dz = act_grad<Act>(load(dy, i), a[c] * v + b[c]);
        store(dx, i, alpha[c] * dz + beta[c] * v + gamma[c]);
      }
    return;
  }
  for (int64_t c = 0; c < C; ++c) {
    const float ac = a[c], bc = b[c], al = alpha[c], be = beta[c], ga = gamma[c];
    const T* __restrict plane = x + c * P;
    const T* __restrict grad = dy + c * P;
    T* __restrict out = dx + c * P;
#pragma omp simd
    for (int64_t p = 0; p < P; ++p) {
      const float v = load(plane, p);
      const float dz = act_grad<Act>(load(grad, p), ac * v + bc);
      store(out, p, al * dz + be * v + ga);
    }
  }
}

// The entry points the loader resolves per CPU: one per storage type (overloads), the
// activation chosen outside the loops.
#define DFB_GN_KERNELS(T)                                                                                          \
  DFB_CLONES void moments_k(const T* x, Sample s, float* shift, double* sum, double* sum_sq, float* part,          \
                            float* part_sq) {                                                                      \
    moments_impl(x, s, shift, sum, sum_sq, part, part_sq);                                                           \
  }                                                                                                                \
  DFB_CLONES void affine_k(const T* x, T* y, const float* a, const float* b, Sample s, bool act) {                \
    act ? affine_impl<T, true>(x, y, a, b, s) : affine_impl<T, false>(x, y, a, b, s);                              \
  }                                                                                                                \
  DFB_CLONES void sums_k(const T* x, const T* dy, const float* a, const float* b, const float* center, Sample s,  \
                         double* sum_dz, double* sum_dzx, float* part, float* part_x, bool act) {                  \
    act ? sums_impl<T, true>(x, dy, a, b, center, s, sum_dz, sum_dzx, part, part_x)                                 \
        : sums_impl<T, false>(x, dy, a, b, center, s, sum_dz, sum_dzx, part, part_x);                               \
  }                                                                                                                \
  DFB_CLONES void dx_k(const T* x, const T* dy, const float* a, const float* b, const float* alpha,                \
                       const float* beta, const float* gamma, T* dx, Sample s, bool act) {                          \
    act ? dx_impl<T, true>(x, dy, a, b, alpha, beta, gamma, dx, s)                                                  \
        : dx_impl<T, false>(x, dy, a, b, alpha, beta, gamma, dx, s);                                                \
  }
DFB_GN_KERNELS(float)
DFB_GN_KERNELS(BF16)
#undef DFB_GN_KERNELS

Sample geometry(const torch::Tensor& x) {
  // A tensor contiguous in both senses (H = W = 1, or C = 1) has the same memory either way.
  return {x.size(1), x.size(2) * x.size(3), !x.is_contiguous()};
}

torch::Tensor floats(const torch::Tensor& t, std::vector<int64_t> sizes, const char* what) {
  TORCH_CHECK(t.sizes() == c10::IntArrayRef(sizes), "group_norm_silu: ", what, " must be ", c10::IntArrayRef(sizes),
              ", got ", t.sizes());
  return t.to(torch::kFloat).contiguous();
}

// f(n) over the samples, on LibTorch's threads.
template <class F>
void for_each_sample(int64_t n, F&& f) {
  at::parallel_for(0, n, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) f(i);
  });
}

// The sample's kernels for x's storage type.
template <class F>
void with_storage(const torch::Tensor& x, F&& f) {
  if (x.scalar_type() == torch::kFloat)
    f(static_cast<float*>(nullptr));
  else
    f(static_cast<BF16*>(nullptr));
}

}  // namespace

namespace {
std::atomic<int> preferred_override{-1};
}  // namespace

void set_preferred(int mode) { preferred_override = mode; }

bool preferred() {
  const int forced = preferred_override.load();
  if (forced >= 0) return forced == 1;
  static const bool use = [] {
    const char* force = std::getenv("DFB_GN_KERNEL");
    if (force && *force) return std::string(force) != "0";
#if defined(__x86_64__) && defined(__GNUC__)
    return __builtin_cpu_supports("x86-64-v3") > 0;
#else
    return false;
#endif
  }();
  return use;
}

bool supported(const torch::Tensor& x) {
  return x.defined() && x.device().is_cpu() && x.dim() == 4 && x.numel() > 0 &&
         (x.scalar_type() == torch::kFloat || x.scalar_type() == torch::kBFloat16) &&
         (x.is_contiguous() || x.is_contiguous(at::MemoryFormat::ChannelsLast));
}

Forward forward(const torch::Tensor& x, const torch::Tensor& gamma_in, const torch::Tensor& beta_in,
                const torch::Tensor& s1_in, const torch::Tensor& t_in, int64_t groups, double eps, bool activation) {
  TORCH_CHECK(supported(x), "group_norm_silu: the CPU kernels take a CPU float32/bfloat16 [N, C, H, W] tensor");
  const Sample s = geometry(x);
  const int64_t n = x.size(0), C = s.c, d = C / groups, cp = C * s.p;
  TORCH_CHECK(groups > 0 && C % groups == 0, "group_norm_silu: ", C, " channels in ", groups, " groups");
  const torch::Tensor gamma = floats(gamma_in, {C}, "γ"), beta = floats(beta_in, {C}, "β");
  const torch::Tensor s1 = floats(s1_in, {n, C}, "1 + scale"), t = floats(t_in, {n, C}, "shift");
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat);
  Forward out{torch::empty_like(x), torch::empty({n, C}, f32), torch::empty({n, C}, f32), torch::empty({n, groups}, f32),
              torch::empty({n, groups}, f32)};
  const float *g = gamma.data_ptr<float>(), *be = beta.data_ptr<float>();
  const float *ps1 = s1.data_ptr<float>(), *pt = t.data_ptr<float>();
  float *pa = out.a.data_ptr<float>(), *pb = out.b.data_ptr<float>();
  float *pmean = out.mean.data_ptr<float>(), *prstd = out.rstd.data_ptr<float>();
  with_storage(x, [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    const T* px = static_cast<const T*>(x.data_ptr());
    T* py = static_cast<T*>(out.y.data_ptr());
    for_each_sample(n, [&](int64_t i) {
      std::vector<double> sum(C), sum_sq(C);
      std::vector<float> part(3 * C);
      float* shift = part.data() + 2 * C;
      moments_k(px + i * cp, s, shift, sum.data(), sum_sq.data(), part.data(), part.data() + C);
      float *a = pa + i * C, *b = pb + i * C;
      for (int64_t k = 0; k < groups; ++k) {
        // Per channel E[x] = k + E[x − k] and E[x²] = E[(x − k)²] + 2k·E[x − k] + k², in double.
        double m = 0, q = 0;
        for (int64_t c = k * d; c < (k + 1) * d; ++c) {
          const double e1 = sum[c] / s.p, e2 = sum_sq[c] / s.p, kc = shift[c];
          m += kc + e1;
          q += e2 + kc * (2 * e1 + kc);
        }
        m /= d;
        q /= d;
        const double var = std::max(q - m * m, 0.0), r = 1.0 / std::sqrt(var + eps);
        pmean[i * groups + k] = static_cast<float>(m);
        prstd[i * groups + k] = static_cast<float>(r);
        for (int64_t c = k * d; c < (k + 1) * d; ++c) {
          const double sc = ps1[i * C + c];
          a[c] = static_cast<float>(r * g[c] * sc);
          b[c] = static_cast<float>((be[c] - m * r * g[c]) * sc + pt[i * C + c]);
        }
      }
      affine_k(px + i * cp, py + i * cp, a, b, s, activation);
    });
  });
  return out;
}

Backward backward(const torch::Tensor& x, const torch::Tensor& dy_in, const Forward& f, const torch::Tensor& gamma_in,
                  const torch::Tensor& beta_in, const torch::Tensor& s1_in, bool activation) {
  TORCH_CHECK(supported(x), "group_norm_silu: the CPU kernels take a CPU float32/bfloat16 [N, C, H, W] tensor");
  TORCH_CHECK(dy_in.sizes() == x.sizes(), "group_norm_silu: gradient ", dy_in.sizes(), " for input ", x.sizes());
  // The gradient in x's layout and dtype (autograd hands it in the output's dtype; its layout
  // follows the next operator's backward).
  const auto format = x.is_contiguous() ? at::MemoryFormat::Contiguous : at::MemoryFormat::ChannelsLast;
  const torch::Tensor dy = dy_in.to(x.scalar_type()).contiguous(format);
  const Sample s = geometry(x);
  const int64_t n = x.size(0), C = s.c, groups = f.mean.size(1), d = C / groups, cp = C * s.p;
  const torch::Tensor gamma = floats(gamma_in, {C}, "γ"), beta = floats(beta_in, {C}, "β");
  const torch::Tensor s1 = floats(s1_in, {n, C}, "1 + scale");
  const torch::Tensor a = floats(f.a, {n, C}, "a"), b = floats(f.b, {n, C}, "b");
  const torch::Tensor mean = floats(f.mean, {n, groups}, "mean"), rstd = floats(f.rstd, {n, groups}, "rstd");
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat);
  Backward out{torch::empty_like(x), {}, {}, torch::empty({n, C}, f32), torch::empty({n, C}, f32)};
  std::vector<double> dgamma_part(n * C), dbeta_part(n * C);
  const float *g = gamma.data_ptr<float>(), *be = beta.data_ptr<float>(), *ps1 = s1.data_ptr<float>();
  const float *pa = a.data_ptr<float>(), *pb = b.data_ptr<float>();
  const float *pmean = mean.data_ptr<float>(), *prstd = rstd.data_ptr<float>();
  float *pdscale = out.dscale.data_ptr<float>(), *pdshift = out.dshift.data_ptr<float>();
  const double count = static_cast<double>(d * s.p);
  with_storage(x, [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    const T *px = static_cast<const T*>(x.data_ptr()), *pdy = static_cast<const T*>(dy.data_ptr());
    T* pdx = static_cast<T*>(out.dx.data_ptr());
    for_each_sample(n, [&](int64_t i) {
      std::vector<double> s_dz(C), s_dzu(C);
      std::vector<float> part(2 * C), center(C), alpha(C), beta_x(C), gamma_x(C);
      const int64_t o = i * C;
      for (int64_t c = 0; c < C; ++c) center[c] = pmean[i * groups + c / d];
      // Σ dz and Σ dz·(x − μ) (centred: Σ dz·x − μ·Σ dz would cancel).
      sums_k(px + i * cp, pdy + i * cp, pa + o, pb + o, center.data(), s, s_dz.data(), s_dzu.data(), part.data(),
             part.data() + C, activation);
      // With u = (x − μ)·r and k = γ(1 + s): dx = r·(k·dz − mean_group(k·dz) − u·mean_group(k·dz·u)).
      for (int64_t k = 0; k < groups; ++k) {
        const double m = pmean[i * groups + k], r = prstd[i * groups + k];
        double m1 = 0, m2 = 0;
        for (int64_t c = k * d; c < (k + 1) * d; ++c) {
          const double kc = g[c] * static_cast<double>(ps1[o + c]), u = r * s_dzu[c];  // Σ dz·u
          m1 += kc * s_dz[c];
          m2 += kc * u;
          dgamma_part[o + c] = ps1[o + c] * u;
          dbeta_part[o + c] = ps1[o + c] * s_dz[c];
          pdscale[o + c] = static_cast<float>(g[c] * u + be[c] * s_dz[c]);
          pdshift[o + c] = static_cast<float>(s_dz[c]);
        }
        m1 /= count;
        m2 /= count;
        for (int64_t c = k * d; c < (k + 1) * d; ++c) {
          alpha[c] = static_cast<float>(r * g[c] * ps1[o + c]);
          beta_x[c] = static_cast<float>(-r * r * m2);
          gamma_x[c] = static_cast<float>(r * r * m * m2 - r * m1);
        }
      }
      dx_k(px + i * cp, pdy + i * cp, pa + o, pb + o, alpha.data(), beta_x.data(), gamma_x.data(), pdx + i * cp, s,
           activation);
    });
  });
  // γ's and β's gradients: the per-sample parts summed in a fixed order (deterministic).
  out.dgamma = torch::empty({C}, f32);
  out.dbeta = torch::empty({C}, f32);
  for (int64_t c = 0; c < C; ++c) {
    double dg = 0, db = 0;
    for (int64_t i = 0; i < n; ++i) dg += dgamma_part[i * C + c], db += dbeta_part[i * C + c];
    out.dgamma.data_ptr<float>()[c] = static_cast<float>(dg);
    out.dbeta.data_ptr<float>()[c] = static_cast<float>(db);
  }
  return out;
}

}  // namespace dfb::gn_cpu

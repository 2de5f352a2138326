// The Fréchet distance against closed forms, the bootstrap and the degradation
// summaries on curves whose answers are known, and the frame encoders (seeded,
// hashed, saved and loaded, trained).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>

#include "tensor/compat.h"
#include "base/error.h"
#include "formats/h5.h"
#include "datasets/bouncing_shapes.h"
#include "metrics/curves.h"
#include "metrics/encoder.h"
#include "metrics/frechet.h"

namespace dfb {
namespace {

FeatureGaussian gaussian(std::vector<double> mean, std::vector<double> cov) {
  const int64_t d = static_cast<int64_t>(mean.size());
  FeatureGaussian g;
  g.mean = torch::tensor(mean, torch::kFloat64);
  g.cov = torch::tensor(cov, torch::kFloat64).view({d, d});
  g.samples = 1000;
  return g;
}

TEST(Frechet, DiagonalGaussiansMatchTheFormula) {
  // Commuting covariances: d² = ‖μ₁ − μ₂‖² + Σ (a + b − 2√(ab)).
  const FeatureGaussian a = gaussian({0, 1, 2}, {4, 0, 0, 0, 1, 0, 0, 0, 9});
  const FeatureGaussian b = gaussian({1, 1, 0}, {1, 0, 0, 0, 1, 0, 0, 0, 4});
  const double expected = (1 + 0 + 4) + (4 + 1 - 2 * 2) + (1 + 1 - 2 * 1) + (9 + 4 - 2 * 6);
  EXPECT_NEAR(frechet_distance(a, b), expected, 1e-10);
  EXPECT_NEAR(frechet_distance(b, a), expected, 1e-10);
  EXPECT_NEAR(frechet_distance(a, a), 0.0, 1e-10);
}

TEST(Frechet, NonCommutingTwoByTwoMatchesTheFormula) {
  // For 2×2 PSD M: Tr √M = √(Tr M + 2√det M), with Tr M = Tr(Σ₁Σ₂) and det M = det Σ₁ · det Σ₂.
  const std::vector<double> s1 = {2.0, 0.7, 0.7, 1.0}, s2 = {1.0, -0.4, -0.4, 3.0};
  const FeatureGaussian a = gaussian({0.5, -1}, s1), b = gaussian({0, 0}, s2);
  const double tr12 = s1[0] * s2[0] + s1[1] * s2[2] + s1[2] * s2[1] + s1[3] * s2[3];
  const double det = (s1[0] * s1[3] - s1[1] * s1[2]) * (s2[0] * s2[3] - s2[1] * s2[2]);
  const double expected = 0.25 + 1 + (s1[0] + s1[3]) + (s2[0] + s2[3]) - 2 * std::sqrt(tr12 + 2 * std::sqrt(det));
  EXPECT_NEAR(frechet_distance(a, b), expected, 1e-10);
}

TEST(Frechet, SamplesOfOneDistributionAreCloseAndAShiftedOneFar) {
  at::Generator gen = make_generator(3);
  const torch::Tensor x = at::randn({4000, 8}, gen, torch::kFloat64);
  const torch::Tensor y = at::randn({4000, 8}, gen, torch::kFloat64);
  const FrechetReference ref(fit_gaussian(x, "x"));
  const double same = ref.distance(fit_gaussian(y, "y"));
  const double shifted = ref.distance(fit_gaussian(y + 1.0, "y + 1"));
  EXPECT_LT(same, 0.05);                     // sampling noise only: about 2·d²/n
  // A shift by 1 in each of 8 features moves only the mean term: ‖m + 1‖² − ‖m‖² = 8 + 2·Σm.
  const double m = (y.mean(0) - x.mean(0)).sum().item<double>();
  EXPECT_NEAR(shifted - same, 8.0 + 2 * m, 1e-9);
  EXPECT_GT(shifted, 7.0);
  // Unbiased covariance: n − 1 in the denominator.
  const torch::Tensor two = torch::tensor({0.0, 2.0}, torch::kFloat64).view({2, 1});
  EXPECT_NEAR(fit_gaussian(two, "two", {2}).cov.item<double>(), 2.0, 1e-12);
}

TEST(Frechet, ResampledDistancesEqualFittingEachResample) {
  at::Generator gen = make_generator(5);
  const FrechetReference ref(fit_gaussian(at::randn({500, 4}, gen, torch::kFloat64), "real"));
  const torch::Tensor f = at::randn({30, 4}, gen, torch::kFloat64) * 1.5 + 0.3;
  const torch::Tensor picks = at::randint(30, {5, 30}, gen, torch::kInt64);
  const std::vector<double> d = ref.distances(f, picks, "f");
  ASSERT_EQ(d.size(), 5u);
  for (int64_t r = 0; r < 5; ++r)
    EXPECT_NEAR(d[r], ref.distance(fit_gaussian(f.index_select(0, picks[r]), "f")), 1e-9) << r;
}

TEST(Frechet, TooFewSamplesOrNaNFeaturesAreClearErrors) {
  const torch::Tensor f = torch::randn({10, 16}, torch::kFloat64);
  try {
    fit_gaussian(f, "samples.h5 method dfm at t = 3");
    FAIL() << "10 samples of 16 features must be refused";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("samples.h5 method dfm at t = 3: 10 samples of 16 features"), std::string::npos) << m;
    EXPECT_NE(m.find("at least 17"), std::string::npos) << m;
  }
  EXPECT_NO_THROW(fit_gaussian(f, "x", {2}));  // a rank-deficient estimate when asked for
  torch::Tensor bad = torch::randn({40, 4}, torch::kFloat64);
  bad[7][2] = std::nan("");
  EXPECT_THROW(fit_gaussian(bad, "x"), Error);
}

TEST(Bootstrap, PicksAreSeededAndTheIdentityComesFirst) {
  const auto a = bootstrap_picks(7, {100, 0.95, 1}), b = bootstrap_picks(7, {100, 0.95, 1});
  const auto c = bootstrap_picks(7, {100, 0.95, 2});
  ASSERT_EQ(a.size(), 101u);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  for (int64_t i = 0; i < 7; ++i) EXPECT_EQ(a[0][i], i);
}

TEST(Bootstrap, IntervalOfAMeanCoversItAndShrinksWithMoreRollouts) {
  // Values 0/1 with p = 0.3: the interval of the mean is about ±1.96·√(p(1−p)/n).
  for (int64_t n : {50, 800}) {
    std::vector<std::vector<double>> values(n, std::vector<double>(1));
    for (int64_t i = 0; i < n; ++i) values[i][0] = (i % 10) < 3 ? 1.0 : 0.0;
    const auto curves = mean_curves(values, bootstrap_picks(n, {2000, 0.95, 0}));
    std::vector<double> column;
    for (const auto& c : curves) column.push_back(c[0]);
    const Interval v = interval_of(column, 0.95);
    const double half = 1.96 * std::sqrt(0.21 / static_cast<double>(n));
    EXPECT_DOUBLE_EQ(v.mean, 0.3);
    EXPECT_NEAR(v.hi - v.lo, 2 * half, 0.25 * half) << n;
    EXPECT_LT(v.lo, 0.3);
    EXPECT_GT(v.hi, 0.3);
  }
}

TEST(Summaries, ALinearCurveHasItsClosedForms) {
  // curve(t) = 1 + 0.01·t on 64 frames, context 2, T_train 8.
  std::vector<double> curve(64);
  for (int t = 0; t < 64; ++t) curve[t] = 1 + 0.01 * t;
  const Summary s = summarize(curve, {2, 8, 64}, 0.0, 1.3);
  EXPECT_NEAR(s.within, 1 + 0.01 * 4.5, 1e-12);  // mean of t = 2..7
  ASSERT_EQ(s.k, (std::vector<int64_t>{2, 3, 4, 5, 6, 7, 8}));
  EXPECT_NEAR(s.at[0], 1 + 0.01 * 11.5, 1e-12);  // t = 8..15
  EXPECT_NEAR(s.at[6], 1 + 0.01 * 59.5, 1e-12);  // t = 56..63
  EXPECT_NEAR(s.ratio[6], s.at[6] / s.within, 1e-12);
  EXPECT_NEAR(s.slope_per_100, 1.0, 1e-9);
  // 62 generated frames: the first and last 15% are ceil(9.3) = 10 frames each, 52 apart.
  EXPECT_NEAR(s.delta_drift, 0.52, 1e-12);
  EXPECT_DOUBLE_EQ(s.first_exit, 31);            // first t with 1 + 0.01·t > 1.3
  // The smoothed curve of a line is the line away from the ends: first outside [0, 1.305] at 31,
  // and it stays outside (the persistent horizon).
  EXPECT_DOUBLE_EQ(summarize(curve, {2, 8, 64}, 0.0, 1.305).stable_horizon, 31);
  // Chunks m_1 = 1.045 (within), m_i = 1 + 0.01·(8i − 4.5) (at i×): |m_i − m_1| = 0.01·(8i − 9), so
  // VDE = Σ_{i=2..8} (i − 1)/28 · 0.01·(8i − 9)/1.045.
  double vde = 0;
  for (int i = 2; i <= 8; ++i) vde += (i - 1) / 28.0 * 0.01 * (8 * i - 9) / 1.045;
  EXPECT_NEAR(s.vde, vde, 1e-12);
  EXPECT_DOUBLE_EQ(summarize(curve, {2, 8, 64}, 0.0, 5.0).stable_horizon, 64);  // never leaves
  EXPECT_DOUBLE_EQ(summarize(curve, {2, 8, 64}, 0.0, 5.0).first_exit, 64);
  EXPECT_TRUE(std::isnan(summarize(curve, {2, 8, 64}, 1.0, 0.0).stable_horizon));  // no band
  EXPECT_TRUE(std::isnan(summarize(curve, {2, 8, 64}, 1.0, 0.0).first_exit));
}

TEST(Summaries, RealBandSpansTheTruthIntervalsAfterTheContext) {
  std::vector<Interval> truth = {{9, 8, 10}, {0.5, 0.4, 0.6}, {0.55, 0.45, 0.7}, {0.5, 0.3, 0.6}};
  const auto band = real_band(truth, 1);
  EXPECT_DOUBLE_EQ(band.first, 0.3);
  EXPECT_DOUBLE_EQ(band.second, 0.7);
}

TEST(Encoder, RandomIsSeededHashedAndDeterministic) {
  const Clips clips = generate_bouncing_shapes({}, 2, 4, 1);
  const FrameEncoder a = FrameEncoder::random(32, 32, 3, {}, 7), b = FrameEncoder::random(32, 32, 3, {}, 7);
  const FrameEncoder c = FrameEncoder::random(32, 32, 3, {}, 8);
  EXPECT_EQ(a.info().hash, b.info().hash);
  EXPECT_NE(a.info().hash, c.info().hash);
  EXPECT_EQ(a.info().hash.rfind("fnv1a64:", 0), 0u);
  const torch::Tensor fa = a.features(clips.frames.data(), 8), fb = b.features(clips.frames.data(), 8);
  EXPECT_EQ(fa.sizes(), (std::vector<int64_t>{8, 12}));
  EXPECT_EQ(fa.scalar_type(), torch::kFloat64);
  EXPECT_TRUE(torch::equal(fa, fb));  // the same seed and batch: the same bits
  // Another batch size gives the same features up to rounding only: oneDNN picks its
  // convolution kernels by shape and CPU (AMX and AVX512-BF16 ones among them), so the
  // last bits may differ between batches of 8 and of 3.
  const torch::Tensor f3 = b.features(clips.frames.data(), 8, 3);
  EXPECT_TRUE(torch::allclose(fa, f3, 1e-4, 1e-5)) << (fa - f3).abs().max().item<double>();
  EXPECT_THROW(FrameEncoder::random(30, 32, 3, {}, 0), Error);
}

TEST(Encoder, TrainsSavesAndLoadsWithItsHash) {
  const Clips clips = generate_bouncing_shapes({}, 8, 8, 2);
  EncoderTrainOptions o;
  o.steps = 40;
  o.batch = 16;
  o.quiet = true;
  const FrameEncoder short_run = train_encoder(clips, "train.h5", [&] { auto p = o; p.steps = 2; return p; }());
  const FrameEncoder e = train_encoder(clips, "train.h5", o);
  EXPECT_LT(e.info().final_loss, short_run.info().final_loss);  // it learns
  EXPECT_EQ(e.info().name, "fd_self");
  const std::string path = testing::TempDir() + "dfb_encoder.h5";
  e.save(path);
  const FrameEncoder back = FrameEncoder::load(path);
  EXPECT_EQ(back.info().hash, e.info().hash);
  EXPECT_EQ(back.info().trained_on, "train.h5");
  EXPECT_TRUE(torch::allclose(back.features(clips.frames.data(), 6), e.features(clips.frames.data(), 6)));
  // A changed weight no longer matches the stored hash.
  {
    h5::Reader r(path);
    h5::Writer w(path);
    for (const std::string& name : r.list("encoder")) {
      std::vector<float> v = r.read_f32("encoder/" + name);
      if (name == "0.weight") v[0] += 0.5f;
      w.write("encoder/" + name, h5::DType::kF32, v.data(), r.shape("encoder/" + name));
    }
    for (const char* k : {"format", "hash", "info"}) w.attr("/", k, r.attr_string("/", k));
    w.attr("/", "version", r.attr_int("/", "version"));
    w.commit();
  }
  try {
    FrameEncoder::load(path);
    FAIL() << "a tampered encoder must be refused";
  } catch (const Error& err) {
    EXPECT_NE(std::string(err.what()).find("do not match the stored hash"), std::string::npos) << err.what();
  }
  std::filesystem::remove(path);
  EXPECT_THROW(FrameEncoder::load(path), Error);
}

}  // namespace
}  // namespace dfb

// Statistics between methods (metrics/comparison.h) against hand-counted cases and closed
// forms: probability of improvement as Mann–Whitney U / (n_a·n_b), the interquartile mean,
// the seed-stratified bootstrap, the persistent stable horizon against the literal one on a
// noisy synthetic curve, and the Video Drift Error.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "base/rng.h"
#include "metrics/comparison.h"
#include "metrics/curves.h"

namespace dfb {
namespace {

// U counted pair by pair, as the definition reads.
double pairwise_u(const std::vector<double>& a, const std::vector<double>& b) {
  double u = 0;
  for (double x : a)
    for (double y : b) u += x > y ? 1.0 : (x == y ? 0.5 : 0.0);
  return u;
}

TEST(ProbabilityOfImprovement, EqualsMannWhitneyUOverPairsOnHandCases) {
  // Disjoint: every pair favours a.
  EXPECT_DOUBLE_EQ(probability_of_improvement({3, 4, 5}, {1, 2}), 1.0);
  EXPECT_DOUBLE_EQ(probability_of_improvement({1, 2}, {3, 4, 5}), 0.0);
  // a = {1, 3}, b = {2}: pairs (1,2) lost, (3,2) won → U = 1, P = 1/2.
  EXPECT_DOUBLE_EQ(probability_of_improvement({1, 3}, {2}), 0.5);
  // Ties count ½: a = {1, 2, 2}, b = {2, 0}: (1,2)=0 (1,0)=1 (2,2)=½ (2,0)=1 (2,2)=½ (2,0)=1 → U = 4, P = 4/6.
  EXPECT_DOUBLE_EQ(probability_of_improvement({1, 2, 2}, {2, 0}), 4.0 / 6.0);
  // All tied: ½.
  EXPECT_DOUBLE_EQ(probability_of_improvement({7, 7}, {7, 7, 7}), 0.5);
  // NaNs are skipped, an empty side gives NaN.
  EXPECT_DOUBLE_EQ(probability_of_improvement({3, NAN, 1}, {2}), 0.5);
  EXPECT_TRUE(std::isnan(probability_of_improvement({NAN}, {1})));
  // Random samples with many ties (values on a grid of 5) against the pair count.
  Rng rng(11);
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<double> a(1 + rng.below(30)), b(1 + rng.below(30));
    for (double& x : a) x = static_cast<double>(rng.below(5));
    for (double& x : b) x = static_cast<double>(rng.below(5));
    EXPECT_NEAR(probability_of_improvement(a, b), pairwise_u(a, b) / static_cast<double>(a.size() * b.size()), 1e-12);
    // Symmetry: P(a > b) + P(b > a) = 1.
    EXPECT_NEAR(probability_of_improvement(a, b) + probability_of_improvement(b, a), 1.0, 1e-12);
  }
}

TEST(ProbabilityOfImprovement, IntervalAndVerdictFollowTheDirectionOfBetter) {
  const BootstrapOptions o{200, 0.95, 3};
  const auto picks = stratified_picks(20, 3, o);
  std::vector<double> good(60), bad(60);
  Rng rng(5);
  for (int i = 0; i < 60; ++i) good[i] = 1.0 + rng.uniform(), bad[i] = rng.uniform();
  const Interval p = probability_of_improvement(good, picks, bad, picks, true, 0.95);
  EXPECT_DOUBLE_EQ(p.mean, 1.0);
  EXPECT_EQ(verdict_of(p), 1);
  // Lower is better: the same scores now favour `bad`.
  const Interval q = probability_of_improvement(good, picks, bad, picks, false, 0.95);
  EXPECT_DOUBLE_EQ(q.mean, 0.0);
  EXPECT_EQ(verdict_of(q), -1);
  // The same values on both sides (in another order, resampled independently): P is ½ on all
  // rollouts and the interval holds it → no detectable difference.
  std::vector<double> c(bad.rbegin(), bad.rend());
  const auto other = stratified_picks(20, 3, BootstrapOptions{200, 0.95, 4});
  const Interval same = probability_of_improvement(bad, picks, c, other, true, 0.95);
  EXPECT_DOUBLE_EQ(same.mean, 0.5);
  EXPECT_LT(same.lo, 0.5);
  EXPECT_GT(same.hi, 0.5);
  EXPECT_EQ(verdict_of(same), 0);
}

TEST(InterquartileMean, TrimsAQuarterFromEachEnd) {
  EXPECT_DOUBLE_EQ(interquartile_mean({1, 2, 3, 4}), 2.5);                 // cut 1: {2, 3}
  EXPECT_DOUBLE_EQ(interquartile_mean({100, 1, 2, 3, 4, 5, 6, -100}), 3.5);  // cut 2: {2, 3, 4, 5}
  EXPECT_DOUBLE_EQ(interquartile_mean({4, 1, 9}), 14.0 / 3.0);             // n < 4: nothing cut
  EXPECT_DOUBLE_EQ(interquartile_mean({NAN, 2}), 2.0);
  EXPECT_TRUE(std::isnan(interquartile_mean({})));
}

TEST(StratifiedBootstrap, ResamplesClipsWithinEachSeedAndKeepsEverySeed) {
  const BootstrapOptions o{300, 0.95, 9};
  const int64_t per = 7, seeds = 4;
  const auto picks = stratified_picks(per, seeds, o);
  ASSERT_EQ(picks.size(), 301u);
  for (int64_t i = 0; i < per * seeds; ++i) EXPECT_EQ(picks[0][i], i);
  std::set<int64_t> seen_in_seed0;
  for (size_t r = 1; r < picks.size(); ++r) {
    ASSERT_EQ(static_cast<int64_t>(picks[r].size()), per * seeds);
    for (int64_t g = 0; g < seeds; ++g)
      for (int64_t i = 0; i < per; ++i) {
        const int64_t p = picks[r][g * per + i];
        EXPECT_GE(p, g * per);  // drawn from its own seed's clips
        EXPECT_LT(p, (g + 1) * per);
        if (g == 0) seen_in_seed0.insert(p);
      }
  }
  EXPECT_EQ(static_cast<int64_t>(seen_in_seed0.size()), per);  // every clip gets drawn
  // A seed's draws depend on (seed, stratum, row) only: a method with fewer seeds is resampled in step.
  const auto fewer = stratified_picks(per, 2, o);
  for (size_t r = 0; r < fewer.size(); ++r)
    for (int64_t i = 0; i < 2 * per; ++i) EXPECT_EQ(fewer[r][i], picks[r][i]);
  // Between-seed spread is not resampled: each row's per-seed means keep the seeds' offsets.
  std::vector<double> values(per * seeds);
  for (int64_t g = 0; g < seeds; ++g)
    for (int64_t i = 0; i < per; ++i) values[g * per + i] = 100.0 * static_cast<double>(g) + static_cast<double>(i % 3);
  for (size_t r = 1; r < picks.size(); ++r) {
    const std::vector<double> v = take(values, picks[r]);
    for (int64_t g = 0; g < seeds; ++g)
      for (int64_t i = 0; i < per; ++i) EXPECT_NEAR(v[g * per + i], 100.0 * g, 2.0 + 1e-9);
  }
}

TEST(WindowScores, AreEachRolloutsMeanOverTheWindow) {
  const std::vector<std::vector<double>> v = {{1, 2, 3, 4}, {NAN, NAN, 5, NAN}, {NAN, NAN, NAN, NAN}};
  const auto s = window_scores(v, 1, 4);
  EXPECT_DOUBLE_EQ(s[0], 3.0);
  EXPECT_DOUBLE_EQ(s[1], 5.0);
  EXPECT_TRUE(std::isnan(s[2]));
}

// A quality curve that is in the real band [0.7, 1] until frame 40 (level 0.85) and falls
// to 0.3 after it, seen through 32 noisy rollouts (uniform noise of s.d. 0.5 per frame): the
// mean curve dips below the band by chance long before 40. Over bootstrap resamples, the
// literal horizon (first frame outside the band) jumps around; the persistent one does not.
TEST(StableHorizon, PersistentIsStableUnderResamplingWhereTheLiteralIsNot) {
  const int64_t rollouts = 32, L = 64, context = 4, fall = 40;
  Rng rng(2024);
  std::vector<std::vector<double>> values(rollouts, std::vector<double>(L));
  for (auto& row : values)
    for (int64_t t = 0; t < L; ++t) row[t] = (t < fall ? 0.85 : 0.3) + rng.uniform(-0.866, 0.866);
  const auto picks = bootstrap_picks(rollouts, BootstrapOptions{400, 0.95, 1});
  const auto curves = mean_curves(values, picks);
  const Windows w{context, 16, L};
  std::vector<double> literal, persistent;
  for (const auto& c : curves) {
    const Summary s = summarize(c, w, 0.7, 1.0);
    literal.push_back(s.first_exit);
    persistent.push_back(s.stable_horizon);
    EXPECT_EQ(s.stable_horizon, persistent_horizon(c, context, 0.7, 1.0));
  }
  auto share_within = [](const std::vector<double>& h, double lo, double hi) {
    return static_cast<double>(std::count_if(h.begin(), h.end(), [&](double x) { return x >= lo && x <= hi; })) /
           static_cast<double>(h.size());
  };
  // The smoothed curve (width 5) leaves the band at 39 when the fall is exact; allow ±3.
  EXPECT_GE(share_within(persistent, fall - 4, fall + 2), 0.99);
  // The literal horizon lands well before the fall in a sizeable share of resamples.
  EXPECT_GE(share_within(literal, 0, fall - 10), 0.25);
  // A curve that never leaves is censored at its length; no band gives NaN.
  EXPECT_DOUBLE_EQ(persistent_horizon(std::vector<double>(L, 0.85), context, 0.7, 1.0), static_cast<double>(L));
  EXPECT_TRUE(std::isnan(persistent_horizon(std::vector<double>(L, 0.85), context, 1.0, 0.7)));
  // Seven frames outside are not eight.
  std::vector<double> blip(L, 0.85);
  for (int64_t t = 20; t < 27; ++t) blip[t] = 0.0;
  EXPECT_DOUBLE_EQ(persistent_horizon(blip, context, 0.7, 1.0, {1, 8}), static_cast<double>(L));
  EXPECT_DOUBLE_EQ(persistent_horizon(blip, context, 0.7, 1.0, {1, 7}), 20.0);
}

TEST(VideoDriftError, MatchesItsFormula) {
  // m = {2, 3, 1, 4}: weights 1/6, 2/6, 3/6 on |Δ|/m1 = 0.5, 0.5, 1 → (0.5 + 1 + 3) / 6.
  EXPECT_DOUBLE_EQ(video_drift_error({2, 3, 1, 4}), 4.5 / 6.0);
  EXPECT_DOUBLE_EQ(video_drift_error({5, 5, 5}), 0.0);
  EXPECT_DOUBLE_EQ(video_drift_error({-2, -1}), 0.5);  // |m1| in the denominator
  EXPECT_TRUE(std::isnan(video_drift_error({1})));
  EXPECT_TRUE(std::isnan(video_drift_error({0, 1})));
  EXPECT_TRUE(std::isnan(video_drift_error({1, NAN})));
}

}  // namespace
}  // namespace dfb

// dfbench evaluate on rollout files whose answers are known: a method that returns the
// truth, one that adds noise, a file written by "another program" (several methods in one
// file, float frames), and bad input — a clear error naming the file, nothing written.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "base/error.h"
#include "formats/h5.h"
#include "pipeline/sampler.h"
#include "datasets/bouncing_shapes.h"
#include "formats/dataset_file.h"
#include "metrics/evaluate.h"
#include "tests/cli_runner.h"

namespace dfb {
namespace {

constexpr int64_t kRollouts = 40, kLength = 16, kContext = 2, kTTrain = 4;

Clips truth_clips() {
  BouncingShapesOptions o;
  o.squares = false;
  return generate_bouncing_shapes(o, kRollouts, kLength, 11);
}

// The truth with Gaussian noise of `sigma` (0..255 units) on every generated frame.
Clips noisy(const Clips& truth, double sigma, uint32_t seed) {
  Clips c = truth;
  c.objects = 0, c.states.clear(), c.colors.clear();
  std::mt19937 gen(seed);
  std::normal_distribution<double> n(0, sigma);
  for (int64_t i = 0; i < c.count; ++i)
    for (int64_t t = kContext; t < c.length; ++t) {
      uint8_t* f = c.frames.data() + i * c.clip_bytes() + t * c.frame_bytes();
      for (int64_t k = 0; k < c.frame_bytes(); ++k)
        f[k] = static_cast<uint8_t>(std::clamp(std::lround(f[k] + n(gen)), 0L, 255L));
    }
  return c;
}

std::string write_rollouts(const std::string& path, const std::string& method, const Clips& generated,
                           const Clips& truth) {
  Rollouts r;
  r.method = method, r.context = kContext, r.t_train = kTTrain;
  r.generated = generated, r.truth = truth;
  write_rollout_file(path, r);
  return path;
}

EvaluateOptions options(std::vector<std::string> samples) {
  EvaluateOptions o;
  o.samples = std::move(samples);
  o.bootstrap.resamples = 200;
  o.fd_window = 4;
  o.quiet = true;
  return o;
}

double within(const nlohmann::json& m, const std::string& metric, const std::string& method) {
  return m["metrics"][metric]["methods"][method]["within_t_train"]["mean"].get<double>();
}

TEST(Evaluate, TheTruthScoresPerfectAndNoiseScoresWorse) {
  const std::string dir = temp_dir("evaluate");
  const Clips truth = truth_clips();
  const std::string a = write_rollouts(dir + "/copy.h5", "copy", truth, truth);
  const Clips noise = noisy(truth, 60, 1);
  const std::string b = write_rollouts(dir + "/noise.h5", "noise", noise, truth);
  const Evaluation ev = evaluate_rollouts(options({a, b}));
  const nlohmann::json& m = ev.metrics;
  EXPECT_EQ(m["methods"], nlohmann::json({"copy", "noise"}));
  for (const MetricInfo& info : metric_catalogue())
    EXPECT_TRUE(m["metrics"].contains(info.name) || info.needs == "encoder") << info.name;
  EXPECT_DOUBLE_EQ(within(m, "ssim", "copy"), 1.0);
  EXPECT_DOUBLE_EQ(within(m, "mse", "copy"), 0.0);
  EXPECT_DOUBLE_EQ(within(m, "psnr", "copy"), 100.0);  // capped: identical frames
  EXPECT_LT(within(m, "ssim", "noise"), 0.8);
  // PSNR per frame in dB, then the mean over rollouts and t in [context, T_train), computed here directly.
  double psnr = 0;
  for (int64_t i = 0; i < kRollouts; ++i)
    for (int64_t t = kContext; t < kTTrain; ++t) {
      double se = 0;
      for (int64_t k = 0; k < truth.frame_bytes(); ++k)
        se += std::pow((noise.frame(i, t)[k] - truth.frame(i, t)[k]) / 255.0, 2);
      psnr += 10 * std::log10(static_cast<double>(truth.frame_bytes()) / se);
    }
  EXPECT_NEAR(within(m, "psnr", "noise"), psnr / (kRollouts * (kTTrain - kContext)), 1e-9);
  // The copy is the truth, so every reference-free metric equals the truth's.
  for (const char* metric : {"fd_random", "fd_random_w", "oracle_valid", "sharpness", "histogram_distance"})
    EXPECT_DOUBLE_EQ(within(m, metric, "copy"), within(m, metric, "truth")) << metric;
  EXPECT_GT(within(m, "oracle_valid", "copy"), 0.9);
  EXPECT_LE(within(m, "oracle_valid", "noise"), within(m, "oracle_valid", "copy"));  // noise alone barely fools it
  EXPECT_GT(within(m, "fd_random", "noise"), 2 * within(m, "fd_random", "copy"));
  EXPECT_GT(within(m, "sharpness", "noise"), within(m, "sharpness", "truth"));
  // Intervals hold the value; the copy never leaves the real band, the noise at once.
  const nlohmann::json& s = m["metrics"]["fd_random"]["methods"]["noise"];
  EXPECT_LE(s["within_t_train"]["lo"].get<double>(), s["within_t_train"]["mean"].get<double>());
  EXPECT_GE(s["within_t_train"]["hi"].get<double>(), s["within_t_train"]["mean"].get<double>());
  EXPECT_TRUE(m["metrics"]["fd_random"]["methods"]["copy"]["stable_horizon"]["never_left"].get<bool>());
  EXPECT_DOUBLE_EQ(s["stable_horizon"]["mean"].get<double>(), kContext);
  EXPECT_EQ(m["metrics"]["fd_random"]["encoder"], m["encoders"]["fd_random"]["hash"]);
  // Pairwise: the copy beats the noise in every rollout, by ssim (higher) and mse (lower) alike.
  for (const char* metric : {"ssim", "mse"}) {
    const nlohmann::json& c = m["comparisons"][metric];
    EXPECT_EQ(c["higher_is_better"].get<bool>(), std::string(metric) == "ssim");
    ASSERT_EQ(c["pairs"].size(), c["windows"].size()) << metric;  // one pair, every window
    for (const auto& pair : c["pairs"]) {
      EXPECT_EQ(pair["a"], "copy");
      EXPECT_DOUBLE_EQ(pair["p"]["mean"].get<double>(), 1.0) << metric;
      EXPECT_EQ(pair["verdict"], "a") << metric;
    }
    EXPECT_DOUBLE_EQ(c["methods"]["copy"]["within"]["iqm"]["mean"].get<double>(), std::string(metric) == "ssim" ? 1.0 : 0.0);
  }
  EXPECT_FALSE(m["comparisons"].contains("fd_random"));  // a distance between sets has no per-rollout score
  EXPECT_EQ(m["metrics"]["ssim"]["methods"]["copy"]["at"].size(), 3u);  // 2x, 3x, 4x of T_train = 4 in 16 frames
  // curves.csv: the header, then t from the context for the truth metrics, from 0 for the others.
  EXPECT_EQ(ev.curves_csv.rfind("method,metric,t,mean,lo,hi\n", 0), 0u);
  EXPECT_NE(ev.curves_csv.find("\ncopy,ssim,2,1,1,1\n"), std::string::npos);
  EXPECT_EQ(ev.curves_csv.find("\ncopy,ssim,1,"), std::string::npos);
  EXPECT_NE(ev.curves_csv.find("\nnoise,oracle_valid,0,"), std::string::npos);
  // The same inputs and seed give the same numbers.
  EXPECT_EQ(evaluate_rollouts(options({a, b})).curves_csv, ev.curves_csv);
}

// Another program's file: two methods in one file, float frames in [0, 1].
std::string write_foreign(const std::string& path, const Clips& truth, bool with_nan) {
  h5::Writer w(path);
  const std::vector<int64_t> shape = {truth.count, truth.length, truth.height, truth.width, truth.channels};
  std::vector<float> f(truth.frames.size());
  for (size_t k = 0; k < f.size(); ++k) f[k] = truth.frames[k] / 255.0f;
  w.write("model_a/frames", h5::DType::kF32, f.data(), shape);
  if (with_nan) f[5 * truth.clip_bytes() + 9 * truth.frame_bytes() + 17] = std::nanf("");
  w.write("model_b/frames", h5::DType::kF32, f.data(), shape);
  w.write("truth/frames", h5::DType::kU8, truth.frames.data(), shape);
  w.attr("/", "format", std::string("dfbench rollouts"));
  w.attr("/", "schema_version", int64_t{1});
  w.attr("/", "context", kContext);
  w.attr("/", "t_train", kTTrain);
  w.commit();
  return path;
}

TEST(Evaluate, ReadsAnotherProgramsFileWithSeveralMethods) {
  const std::string dir = temp_dir("evaluate_foreign");
  Clips truth = truth_clips();
  truth.objects = 0, truth.states.clear(), truth.colors.clear();  // no states: no oracle
  const Evaluation ev = evaluate_rollouts(options({write_foreign(dir + "/f.h5", truth, false)}));
  EXPECT_EQ(ev.metrics["methods"], nlohmann::json({"model_a", "model_b"}));
  EXPECT_DOUBLE_EQ(within(ev.metrics, "ssim", "model_b"), 1.0);
  EXPECT_FALSE(ev.metrics["metrics"].contains("oracle_valid"));
  bool noted = false;
  for (const std::string& n : ev.notes) noted |= n.find("oracle_valid left out") != std::string::npos;
  EXPECT_TRUE(noted);
}

std::string error_of(const EvaluateOptions& o) {
  try {
    evaluate_rollouts(o);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Evaluate, BadInputIsAClearErrorNamingTheFile) {
  const std::string dir = temp_dir("evaluate_bad");
  const Clips truth = truth_clips();
  // A NaN frame.
  std::string e = error_of(options({write_foreign(dir + "/nan.h5", truth, true)}));
  EXPECT_NE(e.find("nan.h5: /model_b/frames rollout 5, frame 9 holds NaN"), std::string::npos) << e;
  // A wrong layout: frames without the channel axis.
  {
    h5::Writer w(dir + "/layout.h5");
    w.write("m/frames", h5::DType::kU8, truth.frames.data(), {kRollouts, kLength, 32, 32 * 3});
    w.write("truth/frames", h5::DType::kU8, truth.frames.data(), {kRollouts, kLength, 32, 32, 3});
    w.attr("/", "format", std::string("dfbench rollouts"));
    w.attr("/", "context", kContext);
    w.commit();
  }
  e = error_of(options({dir + "/layout.h5"}));
  EXPECT_NE(e.find("layout.h5: /m/frames must be uint8"), std::string::npos) << e;
  // Real frames of another size.
  const std::string good = write_rollouts(dir + "/good.h5", "m", truth, truth);
  BouncingShapesOptions big;
  big.size = 64;
  write_dataset_file(dir + "/real64.h5", generate_bouncing_shapes(big, 2, 4, 0));
  EvaluateOptions o = options({good});
  o.real = dir + "/real64.h5";
  e = error_of(o);
  EXPECT_NE(e.find("real64.h5: frames are 64x64x3 but the rollouts' are 32x32x3"), std::string::npos) << e;
  // Too few rollouts for a Fréchet distance, asked for by name; left out (with a note) otherwise.
  Clips few = truth;
  few.count = 8;
  few.frames.resize(static_cast<size_t>(8 * truth.clip_bytes()));
  few.states.resize(static_cast<size_t>(8 * truth.length * truth.objects * kStateDim));
  few.colors.resize(static_cast<size_t>(8 * truth.objects * 3));
  const std::string small = write_rollouts(dir + "/few.h5", "m", few, few);
  o = options({small});
  o.metrics = {"ssim", "fd_random"};
  e = error_of(o);
  EXPECT_NE(e.find("few.h5: cannot compute fd_random: it needs at least 13 rollouts"), std::string::npos) << e;
  o.metrics = {"fd_randm"};
  EXPECT_NE(error_of(o).find("did you mean 'fd_random'"), std::string::npos) << error_of(o);
  o.metrics.clear();
  const Evaluation ev = evaluate_rollouts(o);
  EXPECT_FALSE(ev.metrics["metrics"].contains("fd_random"));
  EXPECT_TRUE(ev.metrics["metrics"].contains("ssim"));
}

TEST(Evaluate, CliWritesBothFilesOrNothing) {
  const std::string dir = temp_dir("evaluate_cli");
  const Clips truth = truth_clips();
  const std::string a = write_rollouts(dir + "/a.h5", "copy", truth, truth);
  write_dataset_file(dir + "/train.h5", generate_bouncing_shapes({}, 6, 8, 3));
  CliResult r = dfbench("encoder train --data " + dir + "/train.h5 --out " + dir + "/enc.h5 --steps 5 --batch 8");
  ASSERT_EQ(r.code, 0) << r.err;
  r = dfbench("evaluate --samples " + a + " --encoder " + dir + "/enc.h5 --bootstrap 50 --fd-window 4 --out " + dir +
              "/eval");
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json m = nlohmann::json::parse(read_file(dir + "/eval/metrics.json"));
  EXPECT_TRUE(m["metrics"].contains("fd_self"));
  EXPECT_EQ(m["metrics"]["fd_self"]["encoder"], m["encoders"]["fd_self"]["hash"]);
  EXPECT_EQ(m["encoders"]["fd_self"]["trained_on"], dir + "/train.h5");
  EXPECT_TRUE(std::filesystem::exists(dir + "/eval/curves.csv"));
  // A NaN frame: one error line, no metrics.json written.
  r = dfbench("evaluate --samples " + write_foreign(dir + "/nan.h5", truth, true) + " --out " + dir + "/eval_nan");
  EXPECT_ONE_ERROR(r, "nan.h5: /model_b/frames rollout 5, frame 9 holds NaN");
  EXPECT_FALSE(std::filesystem::exists(dir + "/eval_nan/metrics.json"));
}

}  // namespace
}  // namespace dfb

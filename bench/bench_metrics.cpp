// Speed of the metrics on this machine (goals measured here, never asserted):
//   BM_Ssim64              SSIM of 64×64 RGB frames against their truth (frames/s)
//   BM_Frechet10k256       the Fréchet distance of 10,000 features of 256 dimensions to a reference
//                          of the same size (fit of both Gaussians and the distance)
//   BM_Evaluate5x64x128    the whole `evaluate` of 5 methods × 64 rollouts × 128 frames at 64×64
//                          (every metric, 1,000 bootstrap resamples; the fd_self encoder is trained
//                          before the timing starts, as the goal excludes it). Goal: under 2 minutes.
// Run: build/dfbench_bench --benchmark_filter='Ssim|Frechet|Evaluate'; DFB_THREADS=N sets the threads.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <filesystem>
#include <random>

#include "tensor/compat.h"
#include "formats/h5.h"
#include "datasets/bouncing_shapes.h"
#include "metrics/evaluate.h"
#include "metrics/frame_metrics.h"
#include "metrics/frechet.h"

namespace dfb {
namespace {

Clips shapes64(int64_t count, int64_t length, uint64_t seed) {
  BouncingShapesOptions o;
  o.size = 64;
  return generate_bouncing_shapes(o, count, length, seed);
}

void BM_Ssim64(benchmark::State& state) {
  const Clips a = shapes64(1, 64, 1), b = shapes64(1, 64, 2);
  int64_t frames = 0;
  for (auto _ : state) {
    double sum = 0;
    for (int64_t t = 0; t < 64; ++t) sum += frame_ssim(a.frame(0, t), b.frame(0, t), 64, 64, 3);
    benchmark::DoNotOptimize(sum);
    frames += 64;
  }
  state.counters["frames/s"] = benchmark::Counter(static_cast<double>(frames), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Ssim64)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);

void BM_Frechet10k256(benchmark::State& state) {
  at::Generator gen = make_generator(0);
  const torch::Tensor real = at::randn({10000, 256}, gen, torch::kFloat64);
  const torch::Tensor fake = at::randn({10000, 256}, gen, torch::kFloat64) * 1.1 + 0.1;
  for (auto _ : state) {
    const double d = frechet_distance(fit_gaussian(real, "real"), fit_gaussian(fake, "fake"));
    benchmark::DoNotOptimize(d);
  }
}
BENCHMARK(BM_Frechet10k256)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);

// Five "methods": the truth with noise growing over the frame index, each its own amount.
std::vector<std::string> five_methods(const std::string& dir) {
  const Clips truth = shapes64(64, 128, 7);
  std::vector<std::string> files;
  std::mt19937 gen(1);
  for (int m = 0; m < 5; ++m) {
    Clips g = truth;
    std::normal_distribution<double> unit(0, 1);
    for (int64_t i = 0; i < g.count; ++i)
      for (int64_t t = 2; t < g.length; ++t) {
        uint8_t* f = g.frames.data() + i * g.clip_bytes() + t * g.frame_bytes();
        const double sigma = 2.0 * (m + 1) * static_cast<double>(t) / 128.0;
        for (int64_t k = 0; k < g.frame_bytes(); k += 7)  // sparse noise keeps the setup quick
          f[k] = static_cast<uint8_t>(std::clamp(std::lround(f[k] + sigma * 20 * unit(gen)), 0L, 255L));
      }
    h5::Writer w(dir + "/m" + std::to_string(m) + ".h5");
    const std::vector<int64_t> shape = {g.count, g.length, g.height, g.width, g.channels};
    w.write("method_" + std::to_string(m) + "/frames", h5::DType::kU8, g.frames.data(), shape);
    w.write("truth/frames", h5::DType::kU8, truth.frames.data(), shape);
    w.write("truth/states", h5::DType::kF32, truth.states.data(), {g.count, g.length, truth.objects, kStateDim});
    w.write("truth/colors", h5::DType::kU8, truth.colors.data(), {g.count, truth.objects, 3});
    w.attr("/", "format", std::string("dfbench rollouts"));
    w.attr("/", "context", int64_t{2});
    w.attr("/", "t_train", int64_t{16});
    w.commit();
    files.push_back(w.path());
  }
  return files;
}

void BM_Evaluate5x64x128(benchmark::State& state) {
  const std::string dir = std::filesystem::temp_directory_path().string() + "/dfb_bench_evaluate";
  std::filesystem::create_directories(dir);
  EvaluateOptions o;
  o.samples = five_methods(dir);
  EncoderTrainOptions t;
  t.steps = 200;
  t.quiet = true;
  train_encoder(shapes64(16, 16, 3), "bench", t).save(dir + "/encoder.h5");
  o.encoder = dir + "/encoder.h5";
  o.fd_window = 16;
  o.quiet = true;
  for (auto _ : state) {
    const Evaluation ev = evaluate_rollouts(o);
    benchmark::DoNotOptimize(ev.curves_csv.size());
  }
  state.counters["frames"] = 5.0 * 64 * 128;
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_Evaluate5x64x128)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);

}  // namespace
}  // namespace dfb

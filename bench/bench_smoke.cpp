// Speed of the smoke model on this machine (the harness times; methods never do):
//   BM_TrainStep      one AdamW step of the smoke preset (forward, backward, clip, update)
//   BM_BackboneForward one forward over the smoke batch (16 clips x 8 frames)
//   BM_Rollout        Diffusion Forcing rollouts of the smoke preset, with the share of
//                     the time spent outside the backbone's forward (goal: < 10%)
//   BM_MethodRollout/M  rollout speed of every registered method M (M/convgru: on the recurrent
//                     backbone; full_sequence/replacement_only: without reconstruction guidance)
//   BM_ConvgruRolloutMemory/L  peak memory of a convgru Diffusion Forcing rollout of L frames:
//                     the state is carried, so only the output grows with L
// Run: build/dfbench_bench [--benchmark_filter=Rollout]; DFB_THREADS=N sets LibTorch's threads.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include "tensor/compat.h"
#include "rollout/denoiser.h"
#include "train/optim.h"
#include "base/registry.h"
#include "pipeline/run_config.h"
#include "pipeline/run_parts.h"
#include "train/training_loss.h"

namespace dfb {
namespace {

RunConfig smoke() { return parse_run_config(load_config_json("smoke", {}), "smoke"); }

torch::Tensor smoke_batch(const RunConfig& c, int64_t batch, int64_t frames) {
  torch::manual_seed(0);
  const DataShape shape = data_shape(c);
  return torch::rand({batch, frames, shape.channels, shape.size, shape.size}) * 2 - 1;
}

// Wraps a backbone and adds up the wall time of its calls (forward and history caching).
class TimedBackbone : public BackboneImpl {
 public:
  explicit TimedBackbone(Backbone inner) : inner_(register_module("inner", std::move(inner))) {}
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& levels) override {
    return time([&] { return inner_->forward(x, levels); });
  }
  std::unique_ptr<BackboneMemory> make_memory() override;
  bool recurrent() const override { return inner_->recurrent(); }
  bool causal() const override { return inner_->causal(); }
  int64_t max_frames() const override { return inner_->max_frames(); }
  double seconds = 0;

  // Runs fn and adds its wall time to `seconds`.
  template <class Fn>
  torch::Tensor time(Fn fn) {
    const auto t0 = std::chrono::steady_clock::now();
    torch::Tensor y = fn();
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return y;
  }

 private:
  Backbone inner_;
};

// The inner backbone's memory, its calls timed into the same total.
class TimedMemory : public BackboneMemory {
 public:
  TimedMemory(std::unique_ptr<BackboneMemory> inner, TimedBackbone& owner) : inner_(std::move(inner)), owner_(owner) {}
  void assign(const torch::Tensor& x, const torch::Tensor& levels) override {
    owner_.time([&] {
      inner_->assign(x, levels);
      return torch::Tensor();
    });
  }
  void extend(const torch::Tensor& x, const torch::Tensor& levels) override {
    owner_.time([&] {
      inner_->extend(x, levels);
      return torch::Tensor();
    });
  }
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& levels) override {
    return owner_.time([&] { return inner_->forward(x, levels); });
  }
  int64_t frames() const override { return inner_->frames(); }

 private:
  std::unique_ptr<BackboneMemory> inner_;
  TimedBackbone& owner_;
};

std::unique_ptr<BackboneMemory> TimedBackbone::make_memory() {
  std::unique_ptr<BackboneMemory> inner = inner_->make_memory();
  if (!inner) return nullptr;
  return std::make_unique<TimedMemory>(std::move(inner), *this);
}

void BM_TrainStep(benchmark::State& state) {
  const RunConfig c = smoke();
  const Diffusion diffusion(c.diffusion);
  auto method = build_method(c);
  torch::manual_seed(c.seed);
  Backbone model = build_backbone(c);
  NamedTensors params = named_tensors(*model);
  AdamW adam(params, AdamWOptions{c.train.beta1, c.train.beta2, 1e-8, c.train.weight_decay});
  const torch::Tensor x0 = smoke_batch(c, c.train.batch, c.train.frames);
  int64_t step = 0;
  for (auto _ : state) {
    at::Generator gen = make_generator(step++);
    torch::Tensor loss = training_loss(*model, *method, diffusion, x0, gen);
    adam.zero_grad();
    loss.backward();
    clip_grad_norm(params, c.train.grad_clip);
    adam.step(c.train.lr);
  }
  state.counters["frames/s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * c.train.batch * c.train.frames), benchmark::Counter::kIsRate);
  state.SetLabel("batch " + std::to_string(c.train.batch) + " x " + std::to_string(c.train.frames) + " frames");
}
BENCHMARK(BM_TrainStep)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(5.0);

void BM_BackboneForward(benchmark::State& state) {
  const RunConfig c = smoke();
  Backbone model = build_backbone(c);
  model->eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor x = smoke_batch(c, c.sample.batch, c.train.frames);
  const torch::Tensor levels = torch::rand({c.sample.batch, c.train.frames});
  for (auto _ : state) benchmark::DoNotOptimize(model->forward(x, levels));
  state.counters["frames/s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * c.sample.batch * c.train.frames), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_BackboneForward)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(3.0);

// Args: frames generated per rollout (after 2 context frames; the window is full after 6),
// history cache on (1) or off (0).
void BM_Rollout(benchmark::State& state) {
  const RunConfig c = smoke();
  const Diffusion diffusion(c.diffusion);
  auto method = build_method(c);
  torch::manual_seed(c.seed);
  auto timed = std::make_shared<TimedBackbone>(build_backbone(c));
  timed->eval();
  Denoiser denoiser(timed, diffusion);
  denoiser.set_history_cache(state.range(1) != 0);
  torch::NoGradGuard no_grad;
  const int64_t horizon = state.range(0), batch = c.sample.batch;
  const torch::Tensor context = smoke_batch(c, batch, c.sample.context);
  RolloutOptions ro;
  ro.steps = c.sample.steps;
  ro.eta = c.sample.eta;
  double total = 0;
  uint64_t seed = 0;
  for (auto _ : state) {
    at::Generator gen = make_generator(seed++);
    const auto t0 = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(method->rollout(denoiser, context, horizon, ro, gen));
    total += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  state.counters["frames/s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * batch * horizon), benchmark::Counter::kIsRate);
  state.counters["outside_backbone_%"] = 100.0 * (1.0 - timed->seconds / total);
  state.counters["backbone_calls"] = static_cast<double>(denoiser.calls()) / static_cast<double>(state.iterations());
  state.SetLabel(std::string(state.range(1) ? "cache, " : "no cache, ") + std::to_string(batch) + " rollouts, " +
                 std::to_string(c.sample.steps) + " steps, " +
                 c.method.value("scheduling", std::string("?")) + " chunk " +
                 std::to_string(c.method.value("chunk", int64_t{1})));
}
BENCHMARK(BM_Rollout)->Args({14, 1})->Args({14, 0})->Unit(benchmark::kSecond)->UseRealTime()->Iterations(2);

// Rollout speed of every registered method with the smoke model (untrained weights: the
// cost does not depend on them), 16 rollouts of 14 new frames after 2 context frames.
// The smoke model's size as a convgru.
const char* kSmokeConvgru = "{\"name\": \"convgru\", \"base\": 16, \"mults\": [1, 2, 2], \"heads\": 2, \"groups\": 8}";

// The smoke preset with `overrides`, its method and an untrained model in eval mode (the cost of
// a rollout does not depend on the weights), ready to roll out.
struct SmokeRollout {
  explicit SmokeRollout(const std::vector<std::string>& overrides)
      : c(parse_run_config(load_config_json("smoke", overrides), "smoke")),
        diffusion(c.diffusion),
        method(build_method(c)),
        model(untrained_model(c)),
        denoiser(model, diffusion) {}
  static Backbone untrained_model(const RunConfig& c) {
    torch::manual_seed(c.seed);
    Backbone b = build_backbone(c);
    b->eval();
    return b;
  }
  RunConfig c;
  Diffusion diffusion;
  std::unique_ptr<Method> method;
  Backbone model;
  Denoiser denoiser;
};

// `method`: a method object; `backbone`: "" (the preset's unet3d) or a backbone object.
void BM_MethodRollout(benchmark::State& state, const std::string& method_json, const std::string& backbone) {
  std::vector<std::string> overrides = {"method=" + method_json};
  if (!backbone.empty()) overrides.push_back("backbone=" + backbone);
  SmokeRollout sr(overrides);
  const RunConfig& c = sr.c;
  auto& method = sr.method;
  Denoiser& denoiser = sr.denoiser;
  torch::NoGradGuard no_grad;
  const int64_t horizon = 14, batch = c.sample.batch;
  const torch::Tensor context = smoke_batch(c, batch, c.sample.context);
  RolloutOptions ro;
  ro.steps = c.sample.steps;
  uint64_t seed = 0;
  for (auto _ : state) {
    at::Generator gen = make_generator(seed++);
    benchmark::DoNotOptimize(method->rollout(denoiser, context, horizon, ro, gen));
  }
  state.counters["frames/s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * batch * horizon), benchmark::Counter::kIsRate);
  state.counters["backbone_calls"] = static_cast<double>(denoiser.calls()) / static_cast<double>(state.iterations());
}

// Resident memory of this process from /proc/self/status (Linux): "VmRSS" now, "VmHWM" the peak
// since reset_peak_rss(); in MB.
double status_mb(const std::string& key) {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind(key + ":", 0) == 0) return std::stod(line.substr(key.size() + 1)) / 1024.0;
  return 0;
}
void reset_peak_rss() { std::ofstream("/proc/self/clear_refs") << "5"; }

// Args: frames per rollout. 4 rollouts, smoke-sized convgru (untrained: the cost does not depend
// on the weights), the smoke preset's Diffusion Forcing (autoregressive, stabilization).
void BM_ConvgruRolloutMemory(benchmark::State& state) {
  SmokeRollout sr({std::string("backbone=") + kSmokeConvgru});
  const RunConfig& c = sr.c;
  auto& method = sr.method;
  Denoiser& denoiser = sr.denoiser;
  torch::InferenceMode inference;
  const int64_t batch = 4, horizon = state.range(0) - c.sample.context;
  const torch::Tensor context = smoke_batch(c, batch, c.sample.context);
  RolloutOptions ro;
  ro.steps = c.sample.steps;
  double peak = 0, output = 0;
  for (auto _ : state) {
    at::Generator gen = make_generator(0);
    const double before = status_mb("VmRSS");
    reset_peak_rss();
    torch::Tensor video = method->rollout(denoiser, context, horizon, ro, gen);
    peak = status_mb("VmHWM") - before;
    output = static_cast<double>(video.numel() * video.element_size()) / (1024.0 * 1024.0);
  }
  state.counters["frames/s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * batch * horizon), benchmark::Counter::kIsRate);
  state.counters["peak_MB"] = peak;      // resident memory above what the process held before
  state.counters["output_MB"] = output;  // the rollout tensor itself
  state.counters["working_MB"] = peak - output;
}
BENCHMARK(BM_ConvgruRolloutMemory)->Arg(100)->Arg(1000)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);

}  // namespace

// Called from main(), after every method's static registrar has run.
void register_method_benchmarks() {
  auto add = [](const std::string& label, const std::string& method, const std::string& backbone) {
    benchmark::RegisterBenchmark(("BM_MethodRollout/" + label).c_str(), BM_MethodRollout, method, backbone)
        ->Unit(benchmark::kSecond)
        ->UseRealTime()
        ->Iterations(1);
  };
  for (const std::string& name : Registry<MethodFactory>::instance().names()) {
    const std::string method = "{\"name\": \"" + name + "\"}";
    add(name, method, "");
    if (build_method(parse_run_config(load_config_json("smoke", {"method=" + method}), "smoke"))->causal())
      add(name + "/convgru", method, kSmokeConvgru);
  }
  add("full_sequence/replacement_only", "{\"name\": \"full_sequence\", \"guidance\": 0}", "");
}

}  // namespace dfb

int main(int argc, char** argv) {
  const char* env = std::getenv("DFB_THREADS");
  const int threads = env ? std::atoi(env) : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(std::max(1, threads));
  benchmark::AddCustomContext("libtorch", dfb::torch_version_string());
  benchmark::AddCustomContext("libtorch_threads", std::to_string(at::get_num_threads()));
  dfb::register_method_benchmarks();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

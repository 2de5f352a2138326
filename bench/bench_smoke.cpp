// Speed of the smoke model on this machine (the harness times; methods never do):
//   BM_TrainStep      one AdamW step of the smoke preset (forward, backward, clip, update)
//   BM_BackboneForward one forward over the smoke batch (16 clips x 8 frames)
//   BM_Rollout        Diffusion Forcing rollouts of the smoke preset, with the share of
//                     the time spent outside the backbone's forward (goal: < 10%)
//   BM_MethodRollout/M  rollout speed of every registered method M (M/convgru: on the recurrent
//                     backbone; full_sequence/replacement_only: without reconstruction guidance)
//   BM_ConvgruRolloutMemory/L  peak memory of a convgru Diffusion Forcing rollout of L frames:
//                     the state is carried, so only the output grows with L
//   (kernel benchmarks, BM_GroupNormSilu and the BM_Peak* roofline peaks: bench_kernels.cpp)
// Every model benchmark reports GFLOP/s: the matrix and convolution work of one iteration,
// counted from the operators' shapes (tensor/op_profile.h).
// Run: build/dfbench_bench [--benchmark_filter=Rollout]; DFB_THREADS=N sets LibTorch's threads,
// DFB_PRECISION=fp32|bf16 the precision, DFB_BENCH_SET="sample.batch=32;..." other settings. Also:
//   build/dfbench_bench --profile=train|forward|rollout   the operators of one iteration by time
//                     (DFB_PROFILE_CALLERS=1: per operator and its caller)
//   build/dfbench_bench --twin_probe=DIR                  the file bench/pytorch_twin.py checks against
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include "tensor/compat.h"
#include "tensor/op_profile.h"
#include "tensor/checkpoint.h"
#include "rollout/denoiser.h"
#include "train/optim.h"
#include "base/registry.h"
#include "bench/bench_common.h"
#include "pipeline/run_config.h"
#include "pipeline/run_parts.h"
#include "train/training_loss.h"

namespace dfb {
namespace {

// DFB_PRECISION=fp32|bf16 (default fp32): the precision of every benchmark's backbone calls.
std::vector<std::string> precision_overrides() {
  const char* p = std::getenv("DFB_PRECISION");
  if (!p || !*p) return {};
  return {std::string("train.precision=") + p, std::string("sample.precision=") + p};
}
// DFB_PRECISION, then DFB_BENCH_SET="a.b=v;c.d=w" (config overrides, e.g. sample.batch=32), after `overrides`.
std::vector<std::string> with_precision(std::vector<std::string> overrides) {
  for (const std::string& s : precision_overrides()) overrides.push_back(s);
  if (const char* set = std::getenv("DFB_BENCH_SET")) {
    const std::string all = set;
    for (size_t a = 0; a < all.size();) {
      const size_t b = std::min(all.find(';', a), all.size());
      if (b > a) overrides.push_back(all.substr(a, b - a));
      a = b + 1;
    }
  }
  return overrides;
}

RunConfig smoke() { return parse_run_config(load_config_json("smoke", with_precision({})), "smoke"); }

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

// One training step of the smoke preset: forward, loss, backward, clipping, AdamW, EMA.
struct TrainStep {
  TrainStep()
      : c(smoke()),
        diffusion(c.diffusion),
        method(build_method(c)),
        model(seeded_model(c)),
        ema(seeded_model(c)),
        params(named_tensors(*model)),
        ema_params(named_tensors(*ema), false),
        adam(params, AdamWOptions{c.train.beta1, c.train.beta2, 1e-8, c.train.weight_decay}),
        x0(smoke_batch(c, c.train.batch, c.train.frames)) {}
  static Backbone seeded_model(const RunConfig& c) {
    torch::manual_seed(c.seed);
    return build_backbone(c);
  }
  void run() {
    at::Generator gen = make_generator(static_cast<uint64_t>(step));
    torch::Tensor loss = training_loss(*model, *method, diffusion, x0, gen, c.train.precision);
    adam.zero_grad();
    loss.backward();
    clip_grad_norm(params, c.train.grad_clip);
    adam.step(c.train.lr);
    ema_update(ema_params, params, c.train.ema_decay, step++);
  }
  RunConfig c;
  Diffusion diffusion;
  std::unique_ptr<Method> method;
  Backbone model, ema;
  FlatParameters params, ema_params;
  AdamW adam;
  torch::Tensor x0;
  int64_t step = 0;
};

void BM_TrainStep(benchmark::State& state) {
  TrainStep t;
  const double flops = profile_ops([&] { t.run(); }).flops;
  for (auto _ : state) t.run();
  const RunConfig& c = t.c;
  state.counters["frames/s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * c.train.batch * c.train.frames), benchmark::Counter::kIsRate);
  set_flop_rate(state, flops);
  state.SetLabel("batch " + std::to_string(c.train.batch) + " x " + std::to_string(c.train.frames) + " frames");
}
BENCHMARK(BM_TrainStep)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(5.0);

// One eval forward over the sampling batch (16 clips x 8 frames), no autograd.
struct Forward {
  Forward() : c(smoke()), model(TrainStep::seeded_model(c)) {
    model->eval();
    x = smoke_batch(c, c.sample.batch, c.train.frames);
    levels = torch::rand({c.sample.batch, c.train.frames});
  }
  torch::Tensor run() {
    torch::NoGradGuard no_grad;
    Autocast autocast(x.device(), c.sample.precision);
    return model->forward(x, levels);
  }
  RunConfig c;
  Backbone model;
  torch::Tensor x, levels;
};

void BM_BackboneForward(benchmark::State& state) {
  Forward f;
  const double flops = profile_ops([&] { f.run(); }).flops;
  for (auto _ : state) benchmark::DoNotOptimize(f.run());
  state.counters["frames/s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * f.c.sample.batch * f.c.train.frames), benchmark::Counter::kIsRate);
  set_flop_rate(state, flops);
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
  denoiser.set_precision(c.sample.precision);
  denoiser.set_history_cache(state.range(1) != 0);
  torch::NoGradGuard no_grad;
  const int64_t horizon = state.range(0), batch = c.sample.batch;
  const torch::Tensor context = smoke_batch(c, batch, c.sample.context);
  RolloutOptions ro;
  ro.steps = c.sample.steps;
  ro.eta = c.sample.eta;
  double total = 0;
  uint64_t seed = 0;
  const double flops = profile_ops([&] {
                         at::Generator gen = make_generator(seed++);
                         method->rollout(denoiser, context, horizon, ro, gen);
                       }).flops;
  timed->seconds = 0;
  const int64_t calls_before = denoiser.calls();
  for (auto _ : state) {
    at::Generator gen = make_generator(seed++);
    const auto t0 = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(method->rollout(denoiser, context, horizon, ro, gen));
    total += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  state.counters["frames/s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * batch * horizon), benchmark::Counter::kIsRate);
  state.counters["outside_backbone_%"] = 100.0 * (1.0 - timed->seconds / total);
  state.counters["backbone_calls"] =
      static_cast<double>(denoiser.calls() - calls_before) / static_cast<double>(state.iterations());
  set_flop_rate(state, flops);
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
      : c(parse_run_config(load_config_json("smoke", with_precision(overrides)), "smoke")),
        diffusion(c.diffusion),
        method(build_method(c)),
        model(untrained_model(c)),
        denoiser(model, diffusion) {
    denoiser.set_precision(c.sample.precision);
  }
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
  // The preset's method list holds only this method: the others may not accept the backbone.
  std::vector<std::string> overrides = {"method=" + method_json, "methods=[" + method_json + "]"};
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
  SmokeRollout sr({std::string("backbone=") + kSmokeConvgru, "methods=[\"diffusion_forcing\"]"});
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

// --profile=train|forward|rollout: the operators of one iteration (after a warm-up one), by self time.
int print_profile(const std::string& what) {
  std::function<void()> work;
  std::unique_ptr<TrainStep> t;
  std::unique_ptr<Forward> f;
  std::unique_ptr<SmokeRollout> r;
  torch::Tensor context;
  if (what == "train") {
    t = std::make_unique<TrainStep>();
    work = [&] { t->run(); };
  } else if (what == "forward") {
    f = std::make_unique<Forward>();
    work = [&] { f->run(); };
  } else if (what == "rollout") {
    r = std::make_unique<SmokeRollout>(std::vector<std::string>{});
    context = smoke_batch(r->c, r->c.sample.batch, r->c.sample.context);
    work = [&] {
      torch::NoGradGuard no_grad;
      RolloutOptions ro;
      ro.steps = r->c.sample.steps;
      at::Generator gen = make_generator(0);
      r->method->rollout(r->denoiser, context, 14, ro, gen);
    };
  } else {
    std::fprintf(stderr, "--profile takes train, forward or rollout, not '%s'\n", what.c_str());
    return 1;
  }
  work();  // warm-up: oneDNN's kernel choices, allocator
  const char* callers = std::getenv("DFB_PROFILE_CALLERS");
  const OpProfile p = profile_ops(work, callers && std::string(callers) == "1");
  std::printf("%s (%s, %d threads): %.1f ms, %.3f GFLOP counted, %.2f GFLOP/s (profiling slows it)\n%s", what.c_str(),
              std::getenv("DFB_PRECISION") ? std::getenv("DFB_PRECISION") : "fp32", at::get_num_threads(),
              1e3 * p.seconds, p.flops / 1e9, p.flops / 1e9 / p.seconds, p.table(std::getenv("DFB_PROFILE_ROWS") ? std::atoi(std::getenv("DFB_PROFILE_ROWS")) : 20).c_str());
  return 0;
}

// --twin_probe=DIR: DIR/twin.h5 for bench/pytorch_twin.py, in the checkpoint format: "model/*" the
// smoke backbone's tensors (perturbed by seeded noise, so that no zero-initialised branch hides a
// difference), "probe/x" and "probe/levels" an input, "probe/y" the fp32 eval forward and
// "probe/y_bf16" the bf16-autocast one; the config is the smoke preset's.
int write_twin_probe(const std::string& dir) {
  const RunConfig c = parse_run_config(load_config_json("smoke", {}), "smoke");
  Backbone model = TrainStep::seeded_model(c);
  NamedTensors tensors = named_tensors(*model);
  torch::NoGradGuard no_grad;
  torch::manual_seed(1);
  for (auto& [name, t] : tensors) t.add_(torch::randn_like(t) * 0.05);
  model->eval();
  const torch::Tensor x = smoke_batch(c, c.sample.batch, c.train.frames);
  torch::manual_seed(2);
  const torch::Tensor levels = torch::rand({c.sample.batch, c.train.frames});
  const torch::Tensor y = model->forward(x, levels);
  torch::Tensor y_bf16;
  {
    Autocast autocast(x.device(), Precision::kBf16);
    y_bf16 = model->forward(x, levels);
  }
  y_bf16 = y_bf16.to(torch::kFloat32);
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/twin.h5";
  write_checkpoint(path, 0, c.seed, c.resolved.dump(),
                   {{"model", tensors}, {"probe", {{"x", x}, {"levels", levels}, {"y", y}, {"y_bf16", y_bf16}}}});
  std::printf("wrote %s: %zu model tensors, probe x %s, y %s\n", path.c_str(), tensors.size(),
              c10::str(x.sizes()).c_str(), c10::str(y.sizes()).c_str());
  return 0;
}

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
  const char* precision = std::getenv("DFB_PRECISION");
  benchmark::AddCustomContext("precision", precision && *precision ? precision : "fp32");
  // Our own flags (before Google Benchmark's): --twin_probe=DIR, --profile=WHAT.
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    try {
      if (a.rfind("--twin_probe=", 0) == 0) return dfb::write_twin_probe(a.substr(13));
      if (a.rfind("--profile=", 0) == 0) return dfb::print_profile(a.substr(10));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "error: %s\n", e.what());
      return 1;
    }
  }
  dfb::register_method_benchmarks();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

// A method (docs/design.md §4) = which noise level each training frame gets and which
// frames carry loss, plus a rollout procedure built on the Denoiser. Methods
// never time or seed themselves: the harness passes the generator.
#pragma once
#include <nlohmann/json.hpp>
#include <torch/types.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace dfb {

class BackboneImpl;
class Denoiser;
class Diffusion;
class JsonReader;

struct TrainLevels {
  torch::Tensor levels;     // int64 [B, T], 0..N
  torch::Tensor loss_mask;  // float [B, T], 1 where the frame carries loss
};

struct RolloutOptions {
  int64_t steps = 10;  // sampling steps S
  double eta = 0.0;    // DDIM η
  // Attention sink (StreamingLLM; Rolling Forcing and LongLive keep one): once the rollout is
  // longer than the window, its first `sink` frames stay at the front of every window and the
  // rest of it slides (window_history). 0 = off. Recurrent backbones carry their whole past anyway.
  int64_t sink = 0;
  // Called after each chunk with the frames generated so far (per rollout), for progress
  // display; the harness owns it (methods never time or print).
  std::function<void(int64_t frames_done)> on_frames;
};

class Method {
 public:
  virtual ~Method() = default;
  virtual std::string name() const = 0;
  // Whether the backbone must be causal.
  virtual bool causal() const = 0;
  virtual TrainLevels training_levels(int64_t batch, int64_t frames, int64_t n_levels, at::Generator& gen) const = 0;
  // What training shows the model at the frames its levels leave clean (ℓ = 0, the history):
  // `x0` itself for every method but one, or (resampling_forcing) the model's own regeneration
  // of them, made without gradient. The loss's targets stay `x0`. `progress` = training step /
  // steps, in [0, 1]. Called after the levels and the forward process's ε are drawn from `gen`.
  virtual torch::Tensor training_history(BackboneImpl& model, const Diffusion& diffusion, const torch::Tensor& x0,
                                         const TrainLevels& levels, double progress, at::Generator& gen) const {
    (void)model, (void)diffusion, (void)levels, (void)progress, (void)gen;
    return x0;
  }
  // context: clean frames [B, n_ctx, C, H, W] on the denoiser's device. Returns
  // [B, n_ctx + horizon, C, H, W] with the context copied in front, unchanged.
  virtual torch::Tensor rollout(Denoiser& denoiser, const torch::Tensor& context, int64_t horizon,
                                const RolloutOptions& options, at::Generator& gen) const = 0;
};

// Registered factory: reads the method's options strictly (everything in the
// "method" object but "name"); returns nullptr when they have errors.
struct MethodFactory {
  static constexpr const char* kKind = "method";
  MethodFactory(std::function<std::unique_ptr<Method>(JsonReader& r)> make_method, std::string trains_as_method = {})
      : make(std::move(make_method)), trains_as(std::move(trains_as_method)) {}
  // Reads the options (declaring the sampling-time ones with JsonReader::sampling_time()
  // where it reads them) and builds the method.
  std::function<std::unique_ptr<Method>(JsonReader& r)> make;
  // The registered method whose training this one is (its training levels are that method's):
  // its training part then names that method, so `dfbench reproduce` samples it from that
  // method's checkpoints instead of training it twice (fifo_diffusion: "full_sequence"). Empty: its own.
  std::string trains_as;
};

// Reads {"name": ..., options...}; errors go to r's ConfigErrors (then returns nullptr).
std::unique_ptr<Method> make_method(JsonReader& r);

// A resolved method object without its sampling-time options (those its factory declares
// with JsonReader::sampling_time() as it reads them), named as the method it trains as
// (MethodFactory::trains_as): what training depends on.
nlohmann::json training_part(const nlohmann::json& method);

// Next-frame training levels (teacher forcing and its noise-augmented variant, docs/design.md §4):
// a target index c ~ U{1..T−1} per sample; frames < c share a level a ~ U{0..augment_max}
// (0 for teacher forcing); frame c ~ U{1..N} carries the loss; frames > c sit at N.
TrainLevels next_frame_levels(int64_t batch, int64_t frames, int64_t n_levels, int64_t augment_max, at::Generator& gen);

// Full-sequence training levels (docs/design.md §4): one level ℓ ~ U{1..N} per sample, the same for
// every frame; every frame carries the loss.
TrainLevels full_sequence_levels(int64_t batch, int64_t frames, int64_t n_levels, at::Generator& gen);

// Context-conditioned full-sequence levels: a first generated index c ~ U{1..T−1} per sample;
// frames < c are clean (0) and carry no loss; frames >= c share one level ℓ ~ U{1..N} and carry it.
TrainLevels context_conditioned_levels(int64_t batch, int64_t frames, int64_t n_levels, at::Generator& gen);

// A rollout's output: [B, n_ctx + horizon, C, H, W] like `context`, the context copied in
// front, the rest to be filled by the rollout loop (uninitialised).
torch::Tensor rollout_video(const torch::Tensor& context, int64_t horizon);

// The history a windowed rollout conditions on before frame `have` of `video`: its last `past`
// frames, or, with a sink of k frames once frames have dropped out of the window, the video's
// first min(k, past − 1) frames followed by its last frames (past in all; positions within the
// window, so the sink sits just before the recent frames, as in StreamingLLM). A view of `video`
// without a sink, a new tensor with one.
torch::Tensor window_history(const torch::Tensor& video, int64_t have, int64_t past, int64_t sink);

// Uniform integers in [low, high] (inclusive), int64, CPU, from `gen`.
torch::Tensor uniform_levels(const std::vector<int64_t>& shape, int64_t low, int64_t high, at::Generator& gen);

}  // namespace dfb

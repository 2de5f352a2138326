// The rollout engine's one primitive (docs/design.md §4): "denoise this window from these
// per-frame levels to those". Every method's rollout is a loop over step().
#pragma once
#include <torch/types.h>

#include <memory>
#include <utility>
#include <vector>

#include "backbones/backbone.h"
#include "diffusion/diffusion.h"
#include "tensor/precision.h"

namespace dfb {

struct StepOptions {
  double eta = 0.0;
  // Frames that stay clean (from = to = 0) are shown to the network noised to this
  // level and labelled with it (stabilization, docs/design.md §4); 0 shows them clean.
  int64_t clean_input_level = 0;
  // How those frames are shown at clean_input_level ℓ: noised to it, √ᾱ_ℓ·x + √(1 − ᾱ_ℓ)·ε (false,
  // ours), or scaled without noise, √ᾱ_ℓ·x (true: how the Diffusion Forcing paper's code shows its
  // context when sampling with DDIM). Labelled ℓ either way.
  bool scaled_history = false;
  // History guidance (docs/design.md §4, from the Diffusion Forcing Transformer): the prediction with
  // the history h is mixed with one whose history is noised to `guidance_level` (N, the
  // default: "no history", vanilla; below N: fractional), p̂ = p̂(h̃) + w·(p̂(h) − p̂(h̃)).
  // The predictions are linear in ε̂, so this is the ε̂ mix. w = 1 turns it off.
  double guidance = 1.0;
  int64_t guidance_level = -1;  // -1 = N
};

class Denoiser {
 public:
  Denoiser(Backbone model, const Diffusion& diffusion);

  // x: [B, T, C, H, W]; from, to: int64 [B, T] (or [T], broadcast over B) with to <= from.
  // Frames with from == to come back bit-for-bit unchanged. Leading frames that stay clean
  // (0 → 0) in every sample are the history (see step_after; a new x is a new history).
  torch::Tensor step(const torch::Tensor& x, const torch::Tensor& from, const torch::Tensor& to,
                     const StepOptions& options, at::Generator& gen);
  // The same step for the frames x that follow `history` (clean frames [B, P, ...], 0 → 0;
  // undefined or empty = none): returns x's frames only. Rollout loops pass the history as a
  // view of their output buffer and do not write those frames while they are the history:
  // the denoiser recognises the same history by identity (the same frames of the same
  // buffer, unwritten since) and prepares it once — stabilization noise drawn once, the
  // backbone's memory assigned once. x's own leading clean frames join the history; between
  // steps they come back unchanged. With a recurrent backbone the history may be the whole
  // rollout so far, growing behind the same start: the model's state is extended by the
  // frames it has not seen, never rebuilt, so memory stays flat.
  torch::Tensor step_after(const torch::Tensor& history, const torch::Tensor& x, const torch::Tensor& from,
                           const torch::Tensor& to, const StepOptions& options, at::Generator& gen);

  // x̂₀ and ε̂ for every frame of x at `levels` (int64 [B, T] or [T]): one whole-window call
  // with no history cache and with autograd left as the caller has it, so a guidance term
  // can differentiate through the network (reconstruction guidance).
  Diffusion::Estimate estimate(const torch::Tensor& x, const torch::Tensor& levels);

  // Pure noise shaped [B, T, C, H, W] like `like`'s frames (level N).
  torch::Tensor noise(int64_t batch, int64_t frames, const torch::Tensor& like, at::Generator& gen) const;

  const Diffusion& diffusion() const { return diffusion_; }
  // History caching (on by default): leading frames that stay clean over consecutive steps
  // are prepared once — stabilization noise drawn once for them — and, when the backbone
  // has a memory (backbones/memory.h), run through the backbone once into it. Off: the
  // whole window is run every step; the results agree up to rounding. One Denoiser per
  // rollout in flight: it owns the backbone's memory.
  void set_history_cache(bool on) {
    use_history_cache_ = on;
    history_in_model_ = false;
    state_frames_ = 0;
  }
  // The arithmetic of the backbone's calls (bf16: autocast); estimates and updates stay fp32.
  void set_precision(Precision p) { precision_ = p; }
  Precision precision() const { return precision_; }
  BackboneImpl& model() { return *model_; }
  int64_t window() const { return model_->max_frames(); }
  // The backbone carries a state (convgru): rollouts pass their whole past as history.
  bool recurrent() const { return model_->recurrent(); }
  int64_t calls() const { return calls_; }  // backbone calls made so far

 private:
  // Makes `a` followed by x's first q frames (all clean in this step) the current history,
  // unless it already is: recognised by identity (the same frames of the same buffer, not
  // written since, and the same q), never by comparing values.
  void set_history(const torch::Tensor& a, const torch::Tensor& x, int64_t q, int64_t level, bool scaled,
                   at::Generator& gen);
  // The same for the history made of `a` then `b` (either may be empty) held by a recurrent
  // model's state: the same rollout's history, grown (`a` starts where it started, longer),
  // extends the state by the frames it has not seen; anything else rebuilds it.
  void set_recurrent_history(const torch::Tensor& a, const torch::Tensor& b, int64_t level, bool scaled,
                             at::Generator& gen);
  // Clean frames as shown at `levels` (StepOptions::clean_input_level and scaled_history).
  torch::Tensor stabilized(const torch::Tensor& frames, const torch::Tensor& levels, bool scaled, at::Generator& gen) const;
  // Which frames a history is: where they are, their layout, the buffer's write count
  // (outside inference mode, which keeps none), and how many of the denoised frames joined them.
  struct HistoryId {
    const void* data = nullptr;
    std::vector<int64_t> sizes, strides;
    int64_t version = 0, joined = 0;
    static HistoryId of(const torch::Tensor& frames, int64_t joined);
    bool operator==(const HistoryId& o) const;
  };
  // from/to as validated int64 [B, T] CPU tensors.
  std::pair<torch::Tensor, torch::Tensor> plans(const torch::Tensor& x, const torch::Tensor& from,
                                                const torch::Tensor& to) const;

  Backbone model_;
  std::unique_ptr<BackboneMemory> memory_;  // the backbone's memory of the history (null: it keeps none)
  const Diffusion& diffusion_;
  int64_t calls_ = 0;
  bool use_history_cache_ = true;
  Precision precision_ = Precision::kFp32;
  HistoryId history_id_;          // the history last prepared
  torch::Tensor history_key_;     // its clean frames
  torch::Tensor history_input_;   // what the network is shown for them (stabilized)
  torch::Tensor history_levels_;  // their levels, int64 [B, P]
  torch::Tensor guide_input_;     // the history noised for the guidance branch (drawn once per history)
  int64_t guide_level_ = -1;
  int64_t history_level_ = 0;
  bool history_scaled_ = false;   // shown scaled, not noised (StepOptions::scaled_history)
  bool history_in_model_ = false; // memory_ holds history_input_
  // A recurrent model's state: how many history frames it has seen, and the caller's
  // history it saw them in (to recognise the same rollout's history, grown).
  int64_t state_frames_ = 0;
  torch::Tensor state_history_;
};

}  // namespace dfb

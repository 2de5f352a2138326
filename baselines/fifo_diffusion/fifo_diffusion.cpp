// fifo_diffusion (Kim et al. 2024, FIFO-Diffusion, arXiv 2405.11473; docs/design.md §4.5): training-free
// diagonal denoising of the non-causal full-sequence model. It trains exactly as full_sequence
// does and declares so (MethodFactory::trains_as), so `dfbench reproduce` samples it from
// full_sequence's checkpoints instead of training it again.
//
// Rollout: the first clip comes from the full-sequence model's own sampler (replacement with
// reconstruction guidance, as full_sequence rolls out), as the paper starts its queue from a
// clip of the base model. Queue slot j is frame n_ctx + j of that clip (its last frame for the
// slots beyond it) noised to the slot's diagonal level; then every pass of the plan
// (fifo_plan.h) makes one frame: the head leaves clean, pure noise joins the tail. With
// lookahead the clean frames in front of the queue are the latest frames of the video (with an
// attention sink, its first ones and the latest), the earliest one repeated while the video is
// shorter than that, as the reference code repeats its first frame.
#include <torch/torch.h>

#include "base/error.h"
#include "base/json_reader.h"
#include "base/registry.h"
#include "baselines/fifo_diffusion/fifo_plan.h"
#include "baselines/full_sequence/replacement_rollout.h"
#include "rollout/denoiser.h"
#include "rollout/method.h"

namespace dfb {
namespace {

class FifoDiffusion : public Method {
 public:
  FifoDiffusion(int64_t partitions, bool lookahead, double guidance)
      : partitions_(partitions), lookahead_(lookahead), guidance_(guidance) {}
  std::string name() const override { return "fifo_diffusion"; }
  bool causal() const override { return false; }
  TrainLevels training_levels(int64_t batch, int64_t frames, int64_t n_levels, at::Generator& gen) const override {
    return full_sequence_levels(batch, frames, n_levels, gen);
  }

  torch::Tensor rollout(Denoiser& d, const torch::Tensor& context, int64_t horizon, const RolloutOptions& ro,
                        at::Generator& gen) const override {
    const int64_t f = d.window(), b = context.size(0), n_ctx = context.size(1);
    const FifoPlan plan = fifo_plan(f, partitions_, lookahead_, d.diffusion());
    if (ro.sink > 0 && plan.pad == 0)
      throw Error("fifo_diffusion: an attention sink needs lookahead (the clean frames in front of the queue)");
    const int64_t slots = partitions_ * f;
    torch::Tensor video = rollout_video(context, horizon);

    // The first clip, as the full-sequence model samples it (its progress is not the rollout's).
    RolloutOptions first_ro = ro;
    first_ro.on_frames = nullptr;
    const int64_t first = std::min(f - n_ctx, horizon);
    const torch::Tensor clip =
        first > 0 ? replacement_rollout(d, context, first, first_ro, std::max<int64_t>(1, f / 2), gen, guidance_) : context;
    std::vector<int64_t> source(static_cast<size_t>(slots));
    for (int64_t j = 0; j < slots; ++j) source[static_cast<size_t>(j)] = std::min(n_ctx + j, clip.size(1) - 1);
    torch::Tensor clean = clip.index_select(1, torch::tensor(source).to(clip.device()));
    torch::Tensor slot_levels =
        torch::tensor(std::vector<int64_t>(plan.levels.begin() + plan.pad, plan.levels.end())).unsqueeze(0).expand({b, slots});
    const Diffusion& diffusion = d.diffusion();
    torch::Tensor queue = diffusion.q_sample(clean, slot_levels, diffusion.noise_like(clean, gen));

    StepOptions so;
    so.eta = ro.eta;
    std::vector<torch::Tensor> from, to;  // the calls' levels as tensors, made once
    for (const FifoCall& c : plan.calls) {
      from.push_back(torch::tensor(c.from));
      to.push_back(torch::tensor(c.to));
    }
    int64_t have = n_ctx;
    for (int64_t made = 0; made < horizon;) {
      torch::Tensor full = queue;
      if (plan.pad > 0) {
        const int64_t shown = std::min(plan.pad, have);
        torch::Tensor front = window_history(video, have, shown, ro.sink);
        if (shown < plan.pad) front = torch::cat({video.slice(1, 0, 1).expand({b, plan.pad - shown, -1, -1, -1}), front}, 1);
        full = torch::cat({front, queue}, 1);
      }
      for (size_t k = 0; k < plan.calls.size(); ++k) {
        const FifoCall& c = plan.calls[k];
        torch::Tensor out = d.step(full.slice(1, c.begin, c.begin + f), from[k], to[k], so, gen);
        full.slice(1, c.write_begin, c.begin + f).copy_(out.slice(1, c.write_begin - c.begin));
      }
      video.slice(1, have, have + 1).copy_(full.slice(1, plan.output(), plan.output() + 1));
      ++have;
      ++made;
      queue = torch::cat({full.slice(1, plan.pad + 1), d.noise(b, 1, context, gen)}, 1);
      if (ro.on_frames) ro.on_frames(made);
    }
    return video;
  }

 private:
  int64_t partitions_;  // n: the queue holds n windows, n·f diagonal levels
  bool lookahead_;      // lookahead denoising (2n half-overlapping calls per frame instead of n)
  double guidance_;     // reconstruction guidance w_r of the first clip (full_sequence's default)
};

std::unique_ptr<Method> make(JsonReader& r) {
  int64_t partitions = 4;  // the paper's default n
  bool lookahead = true;
  double guidance = 6.0;
  r.get("partitions", partitions).sampling_time();
  r.get("lookahead", lookahead).sampling_time();
  r.get("guidance", guidance).sampling_time();
  bool ok = r.check(partitions >= 1, "partitions", "must be >= 1");
  ok = r.check(guidance >= 0, "guidance", "must be >= 0 (0 = replacement only)") && ok;
  r.finish();
  if (!ok) return nullptr;
  return std::make_unique<FifoDiffusion>(partitions, lookahead, guidance);
}

Registrar<MethodFactory> reg("fifo_diffusion",
                             "training-free diagonal denoising of the full_sequence model: a queue at rising levels, "
                             "the head leaves clean (latent partitioning, lookahead); trains as full_sequence",
                             MethodFactory{&make, "full_sequence"});

}  // namespace
}  // namespace dfb

// history_dropout_ar: a baseline that lives outside dfbench. Next-frame diffusion like
// teacher_forcing, but in training each context frame is dropped (shown as pure noise,
// level N) with probability `dropout`, so the model learns not to lean on every past frame.
// It registers itself like any built-in method; linking this file is all it takes.
#include <torch/torch.h>

#include "base/json_reader.h"
#include "base/registry.h"
#include "rollout/chunked_rollout.h"
#include "rollout/method.h"

namespace example {
namespace {

struct HistoryDropoutOptions {
  double dropout = 0.2;  // probability that a context frame is replaced by noise in training
};

class HistoryDropoutAr : public dfb::Method {
 public:
  explicit HistoryDropoutAr(HistoryDropoutOptions o) : o_(o) {}
  std::string name() const override { return "history_dropout_ar"; }
  bool causal() const override { return true; }

  dfb::TrainLevels training_levels(int64_t batch, int64_t frames, int64_t n_levels, at::Generator& gen) const override {
    dfb::TrainLevels t = dfb::next_frame_levels(batch, frames, n_levels, /*augment_max=*/0, gen);
    // Clean context frames (level 0, before the target) dropped with probability `dropout`.
    const torch::Tensor u = torch::rand({batch, frames}, gen);
    const torch::Tensor drop = (t.levels == 0).logical_and(u < o_.dropout);
    t.levels = torch::where(drop, torch::full_like(t.levels, n_levels), t.levels);
    return t;
  }

  torch::Tensor rollout(dfb::Denoiser& d, const torch::Tensor& context, int64_t horizon,
                        const dfb::RolloutOptions& ro, at::Generator& gen) const override {
    dfb::ChunkedRolloutOptions co;
    co.plan = [](int64_t, int64_t steps) { return dfb::one_frame_plan(steps); };
    return dfb::chunked_rollout(d, context, horizon, ro, co, gen);
  }

 private:
  HistoryDropoutOptions o_;
};

std::unique_ptr<dfb::Method> make(dfb::JsonReader& r) {
  HistoryDropoutOptions o;
  r.get("dropout", o.dropout);
  const bool ok = r.check(o.dropout >= 0 && o.dropout < 1, "dropout", "must be in [0, 1)");
  r.finish();
  if (!ok) return nullptr;
  return std::make_unique<HistoryDropoutAr>(o);
}

dfb::Registrar<dfb::MethodFactory> reg("history_dropout_ar",
                                       "example (examples/external_baseline): next-frame diffusion, context frames "
                                       "dropped to noise in training",
                                       dfb::MethodFactory{&make});

}  // namespace
}  // namespace example

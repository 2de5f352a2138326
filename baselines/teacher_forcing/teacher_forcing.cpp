// teacher_forcing (docs/design.md §4): next-frame diffusion on clean context. Training picks a
// target frame c per sample, keeps the frames before it clean and puts the loss on c;
// the rollout makes one frame at a time behind a clean window of T_train − 1 frames.
#include <torch/torch.h>

#include "rollout/chunked_rollout.h"
#include "base/json_reader.h"
#include "rollout/method.h"
#include "base/registry.h"

namespace dfb {
namespace {

class TeacherForcing : public Method {
 public:
  std::string name() const override { return "teacher_forcing"; }
  bool causal() const override { return true; }
  TrainLevels training_levels(int64_t batch, int64_t frames, int64_t n_levels, at::Generator& gen) const override {
    return next_frame_levels(batch, frames, n_levels, /*augment_max=*/0, gen);
  }
  torch::Tensor rollout(Denoiser& d, const torch::Tensor& context, int64_t horizon, const RolloutOptions& ro,
                        at::Generator& gen) const override {
    ChunkedRolloutOptions co;
    co.plan = [](int64_t, int64_t steps) { return one_frame_plan(steps); };
    return chunked_rollout(d, context, horizon, ro, co, gen);
  }
};

std::unique_ptr<Method> make(JsonReader& r) {
  r.finish();
  return std::make_unique<TeacherForcing>();
}

Registrar<MethodFactory> reg("teacher_forcing", "next-frame diffusion on clean context, one frame at a time",
                             MethodFactory{&make});

}  // namespace
}  // namespace dfb

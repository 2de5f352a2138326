// full_sequence_causal (docs/design.md §4): causal full-sequence diffusion (one level for all frames),
// extended chunk by chunk by replacement; the loop and its options are in baselines/full_sequence/replacement_rollout.h.
#include <torch/torch.h>

#include "rollout/method.h"
#include "base/registry.h"
#include "baselines/full_sequence/replacement_rollout.h"

namespace dfb {
namespace {

Registrar<MethodFactory> reg("full_sequence_causal", "causal full-sequence diffusion (one level for all frames), extended chunk by chunk by replacement",
                             MethodFactory{[](JsonReader& r) { return make_full_sequence_method(r, "full_sequence_causal", true, /*guided=*/false); }});

}  // namespace
}  // namespace dfb

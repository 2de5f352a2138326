// full_sequence (docs/design.md §4): non-causal (bidirectional) full-sequence diffusion (one level for all frames),
// extended chunk by chunk by replacement; the loop and its options are in baselines/full_sequence/replacement_rollout.h.
#include <torch/torch.h>

#include "rollout/method.h"
#include "base/registry.h"
#include "baselines/full_sequence/replacement_rollout.h"

namespace dfb {
namespace {

Registrar<MethodFactory> reg("full_sequence", "non-causal full-sequence diffusion (one level for all frames), extended chunk by chunk by replacement (+ reconstruction guidance, option guidance)",
                             MethodFactory{[](JsonReader& r) { return make_full_sequence_method(r, "full_sequence", false, /*guided=*/true); }});

}  // namespace
}  // namespace dfb

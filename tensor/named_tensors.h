// A model's (or an optimizer's) state as named tensors, in registration order: what
// checkpoints store and what AdamW and the EMA update.
#pragma once
#include <torch/types.h>

#include <string>
#include <utility>
#include <vector>

namespace dfb {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

}  // namespace dfb

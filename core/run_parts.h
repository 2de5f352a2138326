// Building the parts of a run from its config: data, backbone, method, seeds.
// Shared by train, sample, reproduce, tests and bench so they all agree.
#pragma once
#include <nlohmann/json.hpp>
#include <torch/types.h>

#include <memory>

#include "core/backbone.h"
#include "core/method.h"
#include "core/run_config.h"
#include "datasets/clips.h"

namespace dfb {

class ClipSource;

std::unique_ptr<Method> build_method(const RunConfig& config);
// The backbone with its window = train.frames and causal as the method needs.
Backbone build_backbone(const RunConfig& config);

// Training clips: the train_file, or the procedural dataset (split "train", data.seed).
Clips load_train_clips(const RunConfig& config);
// The training clips by index: a dataset file streamed clip by clip, or the generated clips.
std::unique_ptr<ClipSource> open_train_source(const RunConfig& config);
// `count` evaluation clips of `length` frames: the first of eval_file (an error when it
// has too few or too short clips), or the procedural dataset with a seed of its own.
Clips load_eval_clips(const RunConfig& config, int64_t count, int64_t length);

// The seed of everything random in training step `step` (splitmix64 of both).
uint64_t step_seed(uint64_t seed, int64_t step);

// uint8 [N, L, H, W, C] → float [N, L, C, H, W] in [-1, 1] (a copy), and back (rounded, clamped).
torch::Tensor clips_to_tensor(const Clips& clips);
std::vector<uint8_t> tensor_to_frames(const torch::Tensor& frames);

// Versions, device, threads, git hash: what env.json holds.
nlohmann::json environment_json(const std::string& device);

}  // namespace dfb

// Building the parts of a run from its config: data, backbone, method, seeds.
// Shared by train, sample, reproduce, tests and bench so they all agree.
#pragma once
#include <nlohmann/json.hpp>
#include <torch/types.h>

#include <memory>
#include <string>

#include "backbones/backbone.h"
#include "rollout/method.h"
#include "pipeline/run_config.h"
#include "formats/clips.h"
#include "tensor/environment.h"
#include "tensor/frames.h"

namespace dfb {

class ClipSource;

std::unique_ptr<Method> build_method(const RunConfig& config);
// What the backbone must fit: the data's channels and size (read from the data), the window
// train.frames, and causal attention when the method needs it.
BackboneShape backbone_shape(const RunConfig& config, const Method& method);
// The backbone of the config for that shape, or with the shape worked out.
Backbone build_backbone(const RunConfig& config, const BackboneShape& shape);
Backbone build_backbone(const RunConfig& config);

// Training clips: the train_file, or the procedural dataset (split "train", data.seed).
Clips load_train_clips(const RunConfig& config);
// The training clips by index: a dataset file streamed clip by clip, or the generated clips.
std::unique_ptr<ClipSource> open_train_source(const RunConfig& config);
// `count` evaluation clips of `length` frames: the first of eval_file (an error when it
// has too few or too short clips), or the procedural dataset with a seed of its own.
Clips load_eval_clips(const RunConfig& config, int64_t count, int64_t length);
// The first `count` clips of `length` frames of a dataset file (the evaluation or memory
// clips a rollout continues); an error naming the file when it has too few or too short clips
// or another frame shape than the model's.
Clips load_clips_file(const RunConfig& config, const std::string& file, int64_t count, int64_t length);
// The memory sweep's clips of gap length `gap` (RunConfig::memory): memory.count clips of
// before + gap + after frames, the gap right after the first `before`, from a seed of their own.
Clips load_memory_clips(const RunConfig& config, int64_t gap);
// Where reproduce keeps them: OUT/data/memory_G<gap>.h5.
std::string memory_clips_file(const std::string& out, int64_t gap);
// `count` held-out clips of `length` frames for the validation during training
// (pipeline/validation.h): generated with a seed of their own, or, where the data comes from
// files, the first clips of eval_file (as many as it has, up to count).
Clips load_validation_clips(const RunConfig& config, int64_t count, int64_t length);

}  // namespace dfb

// What each method's training cost and how it converged, for metrics.json's "training"
// section and the report (docs/metrics.md, "Training curves and compute"): per run (seed) its
// budget (steps, clips, frames, FLOPs, wall time) and curves (the logged loss, and the
// validation scores of pipeline/validation.h), read from RUN/train_log.jsonl.
#pragma once
#include <nlohmann/json.hpp>

#include <string>
#include <utility>
#include <vector>

namespace dfb {

// One run folder's summary:
//   {"run", "steps", "batch", "frames", "parameters", "clips_seen", "frames_seen", "step_flops",
//    "flops", "train_seconds", "validation_seconds", "final_loss",
//    "loss": [[step, loss], ...], "validation": [{"step", name: value, ...}, ...]}
// clips_seen = steps · batch, frames_seen = clips_seen · frames, flops = steps · step_flops
// (null where the log has no count). Throws dfb::Error when the folder has no train_log.jsonl.
nlohmann::json training_run_summary(const std::string& run_dir);

// {method: {"runs": [summary, ...], "steps", "clips_seen", "frames_seen", "flops", "train_seconds"
// (means over the runs), "seeds"}} for each method with at least one run folder ("" = none).
nlohmann::json training_summary(const std::vector<std::pair<std::string, std::vector<std::string>>>& method_runs);

}  // namespace dfb

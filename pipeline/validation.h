// A cheap validation of a model while it trains (docs/metrics.md, "Training curves"): the
// scores the trainer logs every train.validate_every steps, so the report can show whether a
// method has converged at its budget. Scores of the EMA weights on `validate_clips` held-out clips:
//   "loss"          the training loss (the method's own levels and weighting) with fixed draws
//                   of levels and noise, so successive values differ only by the weights;
//   "oracle_valid"  bouncing shapes only: the share of valid frames (the oracle of
//                   metrics/oracle.h) in rollouts of T_train frames from the sample context,
//                   the window the fair-opponent gate judges.
// Held-out clips: generated from a seed of their own (neither training nor evaluation clips),
// or, where the data comes from files, the first clips of the evaluation file. The scores are
// reported, never used to pick a checkpoint.
#pragma once
#include <functional>
#include <map>
#include <string>

#include "pipeline/run_config.h"
#include "backbones/backbone.h"
#include "rollout/method.h"

namespace dfb {

// The validation of `config` for train()'s TrainInputs::validate; an empty function when
// train.validate_every is 0. Loads its clips now; the function keeps its own generators.
std::function<std::map<std::string, double>(Backbone& ema)> make_validation(const RunConfig& config,
                                                                          const Method& method);

}  // namespace dfb

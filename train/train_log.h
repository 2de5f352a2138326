// RUN/train_log.jsonl, one JSON object a line (docs/formats.md): the trainer writes it, this
// is its one reader. Three kinds of line, told apart by their keys:
//   {"step": 0, "batch", "frames", "parameters", "clips"}                    first, on a fresh start;
//   {"step", "loss", "lr", "grad_norm", "steps_per_second"[, "step_flops"]}  every log_every steps;
//   {"step", "validation": {name: value, ...}, "seconds"}                    every validate_every steps.
// "step_flops" (the matrix and convolution operations of one training step, counted from its
// operators) comes with the first interval of each call of the trainer, fresh or resumed.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace dfb {

struct TrainLogInterval {
  int64_t step = 0;            // steps done at the end of the interval
  double loss = 0;             // mean training loss over the interval
  double lr = 0, grad_norm = 0;
  double seconds = 0;          // wall time of the interval (its steps / steps_per_second)
};

struct TrainLogValidation {
  int64_t step = 0;
  std::map<std::string, double> values;  // e.g. "loss", "oracle_valid"
  double seconds = 0;                    // what the validation took
};

struct TrainLog {
  int64_t batch = 0, frames = 0;            // clips a step, frames a clip (0 = a log without its header)
  int64_t parameters = 0, clips = 0;        // of the model; training clips to draw from
  std::vector<TrainLogInterval> intervals;  // by step
  std::vector<TrainLogValidation> validation;
  double step_flops = 0;                    // the last count the log carries; 0 = none
  int64_t steps() const { return intervals.empty() ? 0 : intervals.back().step; }
  double train_seconds() const;             // Σ interval seconds (validation not included)
  double validation_seconds() const;
};

// Reads `path`. A line cut short (a killed run) is skipped; a line that parses but has a key of
// the wrong type is an error naming the file and the line.
TrainLog read_train_log(const std::string& path);

}  // namespace dfb

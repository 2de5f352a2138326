#include "train/train_log.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>

#include "base/error.h"

namespace dfb {

double TrainLog::train_seconds() const {
  double s = 0;
  for (const TrainLogInterval& i : intervals) s += i.seconds;
  return s;
}

double TrainLog::validation_seconds() const {
  double s = 0;
  for (const TrainLogValidation& v : validation) s += v.seconds;
  return s;
}

TrainLog read_train_log(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error("cannot read " + path);
  TrainLog log;
  std::string line;
  int64_t number = 0, previous_step = 0;
  while (std::getline(in, line)) {
    ++number;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception&) {
      continue;  // cut short by a kill
    }
    try {
      if (!j.is_object()) throw Error("not an object");
      const int64_t step = j.at("step").get<int64_t>();
      if (j.contains("batch")) {
        log.batch = j.at("batch").get<int64_t>();
        log.frames = j.at("frames").get<int64_t>();
        log.parameters = j.value("parameters", int64_t{0});
        log.clips = j.value("clips", int64_t{0});
        continue;
      }
      if (j.contains("validation")) {
        TrainLogValidation v;
        v.step = step;
        for (const auto& [k, value] : j.at("validation").items()) v.values[k] = value.is_null() ? NAN : value.get<double>();
        v.seconds = j.value("seconds", 0.0);
        log.validation.push_back(std::move(v));
        continue;
      }
      TrainLogInterval i;
      i.step = step;
      i.loss = j.at("loss").get<double>();
      i.lr = j.value("lr", 0.0);
      i.grad_norm = j.value("grad_norm", 0.0);
      const double rate = j.value("steps_per_second", 0.0);
      i.seconds = rate > 0 ? static_cast<double>(step - previous_step) / rate : 0.0;
      if (j.contains("step_flops")) log.step_flops = j.at("step_flops").get<double>();
      previous_step = step;
      log.intervals.push_back(i);
    } catch (const std::exception& e) {
      throw Error(path + ", line " + std::to_string(number) + ": " + e.what());
    }
  }
  return log;
}

}  // namespace dfb

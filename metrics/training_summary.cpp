#include "metrics/training_summary.h"

#include <cmath>
#include <filesystem>

#include "base/error.h"
#include "train/train_log.h"

namespace dfb {

namespace {
nlohmann::json number_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }
}  // namespace

nlohmann::json training_run_summary(const std::string& run_dir) {
  const std::string path = (std::filesystem::path(run_dir) / "train_log.jsonl").string();
  if (!std::filesystem::exists(path)) throw Error("no training log in '" + run_dir + "' (train_log.jsonl)");
  const TrainLog log = read_train_log(path);
  const int64_t steps = log.steps();
  nlohmann::json j;
  j["run"] = run_dir;
  j["steps"] = steps;
  j["batch"] = log.batch;
  j["frames"] = log.frames;
  j["parameters"] = log.parameters;
  j["clips_seen"] = steps * log.batch;
  j["frames_seen"] = steps * log.batch * log.frames;
  j["step_flops"] = log.step_flops > 0 ? nlohmann::json(log.step_flops) : nlohmann::json(nullptr);
  j["flops"] = log.step_flops > 0 ? nlohmann::json(log.step_flops * static_cast<double>(steps)) : nlohmann::json(nullptr);
  j["train_seconds"] = log.train_seconds();
  j["validation_seconds"] = log.validation_seconds();
  j["final_loss"] = log.intervals.empty() ? nlohmann::json(nullptr) : number_or_null(log.intervals.back().loss);
  j["loss"] = nlohmann::json::array();
  for (const TrainLogInterval& i : log.intervals) j["loss"].push_back({i.step, number_or_null(i.loss)});
  j["validation"] = nlohmann::json::array();
  for (const TrainLogValidation& v : log.validation) {
    nlohmann::json p = {{"step", v.step}};
    for (const auto& [name, value] : v.values) p[name] = number_or_null(value);
    j["validation"].push_back(p);
  }
  return j;
}

nlohmann::json training_summary(const std::vector<std::pair<std::string, std::vector<std::string>>>& method_runs) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [method, runs] : method_runs) {
    nlohmann::json m;
    m["runs"] = nlohmann::json::array();
    for (const std::string& run : runs)
      if (!run.empty()) m["runs"].push_back(training_run_summary(run));
    const size_t n = m["runs"].size();
    if (n == 0) continue;
    m["seeds"] = n;
    for (const char* key : {"steps", "clips_seen", "frames_seen", "flops", "train_seconds"}) {
      double sum = 0;
      bool all = true;
      for (const nlohmann::json& r : m["runs"]) {
        if (r[key].is_null()) all = false;
        else sum += r[key].get<double>();
      }
      m[key] = all ? nlohmann::json(sum / static_cast<double>(n)) : nlohmann::json(nullptr);
    }
    out[method] = m;
  }
  return out;
}

}  // namespace dfb

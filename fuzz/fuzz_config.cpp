// The strict JSON config reader: the input is a config's text, then (after a "\n---\n" line)
// `--set` assignments, one per line. Read as load_json_file reads a config, the assignments
// applied to it and to an embedded preset, and the result read strictly through JsonReader
// with the run config's top-level layout (unknown keys, wrong types, suggestions).
#include <sstream>

#include "base/json_reader.h"
#include "base/presets.h"
#include "fuzz/fuzz_common.h"

namespace {

void read_strictly(const nlohmann::json& config) {
  using namespace dfb;
  ConfigErrors errors;
  JsonReader r(config, "", errors);
  std::string name, device, dataset, schedule, prediction;
  int64_t seed = 0, seeds = 1, steps = 0, batch = 0, clips = 0, length = 0;
  double lr = 0, gamma = 0;
  std::vector<std::string> methods;
  r.get("name", name).get("seed", seed).get("seeds", seeds).get_choice("device", device, {"cpu", "cuda"});
  JsonReader d = r.child("data");
  d.get("dataset", dataset).get("train_clips", clips).get("clip_length", length).get("seed", seed);
  d.accept("options");
  d.finish();
  JsonReader f = r.child("diffusion");
  f.get_choice("schedule", schedule, {"cosine", "linear"}).get("prediction", prediction).get("snr_gamma", gamma);
  f.accept("loss_weight");
  f.finish();
  JsonReader t = r.child("train");
  t.get("steps", steps).get("batch", batch).get("lr", lr);
  t.check(steps > 0, "steps", "must be > 0");
  t.finish();
  r.accept("backbone");
  r.accept("method");
  r.accept("methods");
  r.accept("sample");
  r.finish();
  errors.lines();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dfb;
  const auto [text, sets] = fuzz::split_input(data, size);
  const std::string path = fuzz::write_input(reinterpret_cast<const uint8_t*>(text.data()), text.size(), "config.json");
  std::vector<std::string> assignments;
  std::istringstream lines(sets);
  for (std::string line; std::getline(lines, line);) assignments.push_back(line);
  fuzz::expect_only_errors([&] {
    nlohmann::json config = load_json_file(path);
    for (const std::string& a : assignments) apply_override(config, a);
    read_strictly(config);
  });
  fuzz::expect_only_errors([&] {  // the same assignments over a preset
    nlohmann::json preset = nlohmann::json::parse(preset_json("tiny"));
    for (const std::string& a : assignments) apply_override(preset, a);
    read_strictly(preset);
  });
  return 0;
}

#include "metrics/memory_evaluation.h"

#include <cstdio>
#include <map>
#include <tuple>

#include "metrics/memory.h"
#include "metrics/memory_summary.h"

namespace dfb {
namespace {

constexpr const char* kTruth = "truth";

std::string number(double x) {
  char b[32];
  std::snprintf(b, sizeof b, "%.6g", x);
  return b;
}

// The frames a method's model conditions on, from the config its rollouts were made with: a
// window of train.frames, 0 for a recurrent backbone (convgru), −1 when the file does not say.
// And the attention sink they were made with (sample.sink; 0 when none).
std::pair<int64_t, int64_t> memory_window(const RolloutFile& f, const std::string& method) {
  const auto it = f.configs.find(method);
  if (it == f.configs.end()) return {-1, 0};
  try {
    const nlohmann::json c = nlohmann::json::parse(it->second);
    const int64_t sink = c.contains("sample") ? c["sample"].value("sink", int64_t{0}) : 0;
    if (c.at("backbone").value("name", std::string()) == "convgru") return {0, sink};
    return {c.at("train").at("frames").get<int64_t>(), sink};
  } catch (const std::exception&) {
    return {-1, 0};
  }
}

}  // namespace

nlohmann::json memory_section(const std::vector<RolloutFile>& files, const BootstrapOptions& bootstrap) {
  const MemoryOptions memory;
  std::map<std::string, MemorySet> sets;
  std::vector<std::string> order = {kTruth};
  for (const RolloutFile& f : files) {
    if (f.truth.visible.empty()) continue;
    std::map<int64_t, std::vector<MemoryScore>> truth_by_gap, chance_by_gap;
    for (const MemoryScore& s : memory_scores(f.truth, f.truth, f.context, memory)) truth_by_gap[s.gap].push_back(s);
    for (const MemoryScore& s : memory_chance(f.truth, f.context, memory)) chance_by_gap[s.gap].push_back(s);
    for (const std::string& m : f.methods) {
      if (!sets.count(m)) order.push_back(m);
      MemorySet& set = sets[m];
      set.name = m;
      std::tie(set.window, set.sink) = memory_window(f, m);
      std::map<int64_t, std::vector<MemoryScore>> by_gap;
      for (const MemoryScore& s : memory_scores(read_method_frames(f, m), f.truth, f.context, memory))
        by_gap[s.gap].push_back(s);
      for (auto& [gap, scores] : by_gap) {
        set.by_gap[gap].push_back(std::move(scores));
        set.chance[gap] = chance_by_gap[gap];
      }
    }
    MemorySet& truth = sets[kTruth];
    truth.name = kTruth;
    for (auto& [gap, scores] : truth_by_gap) {  // one truth per gap (every method's file repeats it)
      if (!truth.by_gap.count(gap)) truth.by_gap[gap].push_back(std::move(scores));
      truth.chance[gap] = chance_by_gap[gap];
    }
  }
  if (sets.empty()) return nullptr;
  std::vector<MemorySet> ordered;
  for (const std::string& name : order)
    if (sets.count(name)) ordered.push_back(sets[name]);
  return summarize_memory(ordered, memory, bootstrap);
}

bool memory_sweep(const std::vector<RolloutFile>& files) {
  bool same = true;
  for (const RolloutFile& f : files) {
    if (f.truth.visible.empty()) return false;
    same = same && f.context == files.front().context && f.truth.frames == files.front().truth.frames;
  }
  return !same;
}

std::string format_memory(const nlohmann::json& memory) {
  std::string out = "memory: colour recall after a gap of G frames (chance), memory horizon\n";
  for (auto& [set, m] : memory["methods"].items()) {
    std::string row = "  " + set + ":";
    for (const auto& g : m["gaps"]) {
      const auto& r = g["colour_recall"]["mean"];
      const bool chance = g.contains("chance") && !g["chance"]["colour_recall"].is_null();
      row += " G=" + std::to_string(g["gap"].get<int64_t>()) + " " + (r.is_null() ? "-" : number(r.get<double>())) +
             (chance ? " (" + number(g["chance"]["colour_recall"].get<double>()) + ")" : "");
    }
    if (m.contains("horizon") && !m["horizon"]["mean"].is_null())
      row += "; horizon " + number(m["horizon"]["mean"].get<double>()) + (m["horizon"]["censored"].get<bool>() ? "+" : "");
    out += row + "\n";
  }
  return out;
}

}  // namespace dfb

// The memory section of an evaluation (docs/metrics.md "Memory"): the memory scores of the
// rollout files whose truth records which objects each frame shows, summarised per method and
// gap length (metrics/memory_summary.h), and its lines in dfbench evaluate's printout.
#pragma once
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "formats/rollout_file.h"
#include "metrics/curves.h"

namespace dfb {

// Per method its scores grouped by gap, a method's files at one gap being its seeds; the truth
// scored against itself as the set "truth". Null when no file records visibility.
nlohmann::json memory_section(const std::vector<RolloutFile>& files, const BootstrapOptions& bootstrap);

// Whether the files are a memory sweep: every truth records visibility, and they do not all
// continue the same clips (so the per-frame metrics, which pool one truth, cannot be computed).
bool memory_sweep(const std::vector<RolloutFile>& files);

// "memory: ..." and a line per method: colour recall per gap (chance), memory horizon.
std::string format_memory(const nlohmann::json& memory);

}  // namespace dfb

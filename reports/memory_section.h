// The report's memory section (docs/metrics.md, "Memory"): from metrics.json's "memory", a table
// of colour recall after a gap of G frames per method with its chance level and memory horizon,
// the chart of recall over G, and the sentences the numbers support — saying where a model
// cannot remember by construction (its window holds none of the frames before the gap), so
// that chance-level recall there is not read as a finding. Torch-free.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "reports/summary_table.h"

namespace dfb {

// Rows: the methods then the truth and the chance level; columns: what the model sees, each
// gap length, the memory horizon. A blind cell (G >= the model's window) is marked "(blind)".
SummaryTable memory_table(const nlohmann::json& memory);

// The sentences under the table: per windowed method where it goes blind, and which methods keep
// recall above chance by the margin beyond the window (the horizon's interval), or that none does.
std::vector<std::string> memory_findings(const nlohmann::json& memory);

}  // namespace dfb

// What a result was made with: dfbench's version and commit, LibTorch's version, the
// device, the thread count, the compiler and the time (env.json, and "environment" in
// metrics.json and shape_count.json).
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace dfb {

nlohmann::json environment_json(const std::string& device);

}  // namespace dfb

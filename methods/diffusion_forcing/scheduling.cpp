#include "methods/diffusion_forcing/scheduling.h"

#include <algorithm>
#include <cmath>

#include "base/error.h"
#include "base/suggest.h"

namespace dfb {

const std::vector<std::string>& scheduling_modes() {
  static const std::vector<std::string> modes = {"full_sequence", "autoregressive", "pyramid", "trapezoid"};
  return modes;
}

StepPlan scheduling_matrix(const std::string& mode, int64_t steps, int64_t frames, double uncertainty) {
  const auto& modes = scheduling_modes();
  if (std::find(modes.begin(), modes.end(), mode) == modes.end())
    throw Error(unknown_name_message("scheduling mode", mode, modes));
  if (steps < 1 || frames < 1) throw Error("scheduling matrix needs steps >= 1 and frames >= 1");
  if (uncertainty < 0) throw Error("scheduling matrix needs an uncertainty scale >= 0");

  StepPlan m;
  if (mode == "full_sequence") {
    for (int64_t row = 0; row <= steps; ++row) m.emplace_back(frames, steps - row);
    return m;
  }
  std::vector<int64_t> lag(frames);
  for (int64_t t = 0; t < frames; ++t) {
    double x = 0;
    if (mode == "autoregressive") x = static_cast<double>(t) * steps;
    else if (mode == "pyramid") x = t * uncertainty;
    else x = std::min(t, frames - 1 - t) * uncertainty;
    lag[t] = static_cast<int64_t>(std::floor(x + 1e-9));
  }
  const int64_t max_lag = *std::max_element(lag.begin(), lag.end());
  for (int64_t row = 0; row <= steps + max_lag; ++row) {
    std::vector<int64_t> r(frames);
    for (int64_t t = 0; t < frames; ++t) r[t] = std::clamp<int64_t>(steps + lag[t] - row, 0, steps);
    m.push_back(std::move(r));
  }
  return m;
}

}  // namespace dfb

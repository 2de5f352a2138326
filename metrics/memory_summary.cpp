// The memory section of metrics.json (see memory_summary.h).
#include "metrics/memory_summary.h"

#include <cmath>
#include <limits>

#include "base/error.h"

namespace dfb {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double mean_of(const std::vector<double>& v, const std::vector<int64_t>& picks) {
  double sum = 0, n = 0;
  for (int64_t p : picks) {
    const double x = v[static_cast<size_t>(p)];
    if (!std::isfinite(x)) continue;
    sum += x;
    n += 1;
  }
  return n > 0 ? sum / n : kNaN;
}

double plain_mean(const std::vector<double>& v) {
  std::vector<int64_t> all(v.size());
  for (size_t i = 0; i < v.size(); ++i) all[i] = static_cast<int64_t>(i);
  return mean_of(v, all);
}

nlohmann::json interval_json(const Interval& i) {
  auto num = [](double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr); };
  return {{"mean", num(i.mean)}, {"lo", num(i.lo)}, {"hi", num(i.hi)}};
}

}  // namespace

int64_t memory_horizon(const std::vector<int64_t>& gaps, const std::vector<double>& recall,
                       const std::vector<double>& chance, double margin) {
  int64_t horizon = 0;
  for (size_t i = 0; i < gaps.size(); ++i) {
    if (!(recall[i] > chance[i] + margin)) break;  // NaN fails too
    horizon = gaps[i];
  }
  return horizon;
}

nlohmann::json summarize_memory(const std::vector<MemorySet>& sets, const MemoryOptions& memory,
                                const BootstrapOptions& bootstrap) {
  nlohmann::json out = {{"version", 1},
                        {"frames_after", memory.frames_after},
                        {"horizon_margin", memory.horizon_margin},
                        {"methods", nlohmann::json::object()}};
  for (const MemorySet& set : sets) {
    std::vector<int64_t> gaps;
    std::vector<double> chance_recall;
    std::vector<std::vector<double>> recall_rows;  // [gap][resample]
    nlohmann::json by_gap = nlohmann::json::array();
    for (const auto& [gap, seeds] : set.by_gap) {
      if (seeds.empty() || seeds.front().empty()) continue;
      const int64_t clips = static_cast<int64_t>(seeds.front().size()), groups = static_cast<int64_t>(seeds.size());
      std::vector<double> recall, count, position;  // seed-major, as grouped_picks indexes them
      for (const std::vector<MemoryScore>& seed : seeds) {
        if (static_cast<int64_t>(seed.size()) != clips)
          throw Error("memory: " + set.name + " has " + std::to_string(seed.size()) + " and " + std::to_string(clips) +
                      " scored clips at gap " + std::to_string(gap) + " in two seeds; seeds must score the same clips");
        for (const MemoryScore& s : seed) {
          recall.push_back(s.colour_recall);
          count.push_back(s.count_right);
          position.push_back(s.position_error);
        }
      }
      const auto picks = grouped_picks(bootstrap_picks(clips, bootstrap), groups, bootstrap);
      std::vector<double> r_rows, c_rows, p_rows;
      for (const auto& row : picks) {
        r_rows.push_back(mean_of(recall, row));
        c_rows.push_back(mean_of(count, row));
        p_rows.push_back(mean_of(position, row));
      }
      nlohmann::json g = {{"gap", gap},
                          {"rollouts", clips * groups},
                          {"seeds", groups},
                          {"colour_recall", interval_json(interval_of(r_rows, bootstrap.level))},
                          {"count_right", interval_json(interval_of(c_rows, bootstrap.level))},
                          {"position_error", interval_json(interval_of(p_rows, bootstrap.level))},
                          {"blind", set.window > 0 && set.sink == 0 && gap >= set.window}};
      double chance = kNaN;
      const auto it = set.chance.find(gap);
      if (it != set.chance.end() && !it->second.empty()) {
        std::vector<double> cr, cc, cp;
        for (const MemoryScore& s : it->second) {
          cr.push_back(s.colour_recall);
          cc.push_back(s.count_right);
          cp.push_back(s.position_error);
        }
        chance = plain_mean(cr);
        auto num = [](double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr); };
        g["chance"] = {{"colour_recall", num(chance)}, {"count_right", num(plain_mean(cc))},
                       {"position_error", num(plain_mean(cp))}};
      }
      by_gap.push_back(g);
      gaps.push_back(gap);
      chance_recall.push_back(chance);
      recall_rows.push_back(r_rows);
    }
    nlohmann::json m = {{"gaps", by_gap},
                        {"window", set.window >= 0 ? nlohmann::json(set.window) : nlohmann::json(nullptr)},
                        {"sink", set.sink}};
    if (!gaps.empty()) {
      const size_t resamples = recall_rows.front().size();
      std::vector<double> horizons;
      for (size_t r = 0; r < resamples; ++r) {
        std::vector<double> recall;
        for (const auto& rows : recall_rows) recall.push_back(rows[r]);
        horizons.push_back(static_cast<double>(memory_horizon(gaps, recall, chance_recall, memory.horizon_margin)));
      }
      nlohmann::json h = interval_json(interval_of(horizons, bootstrap.level));
      h["censored"] = horizons.front() == static_cast<double>(gaps.back());
      m["horizon"] = h;
    }
    out["methods"][set.name] = m;
  }
  return out;
}

}  // namespace dfb

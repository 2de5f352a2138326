// The report's memory section (see memory_section.h).
#include "reports/memory_section.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "reports/text.h"

namespace dfb {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double number_or_nan(const nlohmann::json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? j[key].get<double>() : kNaN;
}

Interval interval_of_json(const nlohmann::json& j) {
  return {number_or_nan(j, "mean"), number_or_nan(j, "lo"), number_or_nan(j, "hi")};
}

std::vector<int64_t> all_gaps(const nlohmann::json& methods) {
  std::vector<int64_t> gaps;
  for (const auto& [name, m] : methods.items())
    for (const auto& g : m.at("gaps")) gaps.push_back(g.at("gap").get<int64_t>());
  std::sort(gaps.begin(), gaps.end());
  gaps.erase(std::unique(gaps.begin(), gaps.end()), gaps.end());
  return gaps;
}

const nlohmann::json* gap_entry(const nlohmann::json& m, int64_t gap) {
  for (const auto& g : m.at("gaps"))
    if (g.at("gap").get<int64_t>() == gap) return &g;
  return nullptr;
}

std::string sees(const nlohmann::json& m) {
  if (!m.contains("window") || !m.at("window").is_number()) return "–";
  const int64_t w = m.at("window").get<int64_t>(), sink = m.value("sink", int64_t{0});
  if (w == 0) return "recurrent state";
  return "window of " + std::to_string(w) + (sink > 0 ? ", first " + std::to_string(sink) + " kept (sink)" : "");
}

std::string horizon_text(const nlohmann::json& m) {
  if (!m.contains("horizon")) return "–";
  const nlohmann::json& h = m.at("horizon");
  const Interval v = interval_of_json(h);
  auto frames = [](double x) { return std::isfinite(x) ? std::to_string(std::llround(x)) : std::string("–"); };
  std::string s = frames(v.mean) + " [" + frames(v.lo) + ", " + frames(v.hi) + "]";  // gap lengths: whole frames
  if (h.value("censored", false)) s = "≥ " + s + " (never fell to chance)";
  return s;
}

}  // namespace

SummaryTable memory_table(const nlohmann::json& memory) {
  SummaryTable t;
  t.metric = "memory";
  t.better = "higher";
  t.caption = "Colour recall after a gap of G frames (the share of returning objects drawn in their own colour), "
              "mean and 95\\% bootstrap interval; chance: a model with no memory of the clip; blind: the model's "
              "window holds no frame from before the gap";
  const nlohmann::json& methods = memory.at("methods");
  const std::vector<int64_t> gaps = all_gaps(methods);
  t.columns.push_back("sees");
  for (int64_t g : gaps) t.columns.push_back("G = " + std::to_string(g));
  t.columns.push_back("memory horizon");
  std::vector<std::string> order;
  for (const auto& [name, m] : methods.items())
    if (name != "truth") order.push_back(name);
  if (methods.contains("truth")) order.push_back("truth");
  std::vector<double> best(gaps.size(), -1);
  for (const std::string& name : order) {
    if (name == "truth") continue;
    for (size_t i = 0; i < gaps.size(); ++i)
      if (const nlohmann::json* g = gap_entry(methods[name], gaps[i]))
        best[i] = std::max(best[i], number_or_nan(g->at("colour_recall"), "mean"));
  }
  nlohmann::json chance_of = nlohmann::json::object();
  for (const std::string& name : order) {
    const nlohmann::json& m = methods[name];
    std::vector<TableCell> row = {{name == "truth" ? "–" : sees(m), false}};
    for (size_t i = 0; i < gaps.size(); ++i) {
      const nlohmann::json* g = gap_entry(m, gaps[i]);
      if (!g) {
        row.push_back({"–", false});
        continue;
      }
      if (g->contains("chance")) chance_of[std::to_string(gaps[i])] = g->at("chance").at("colour_recall");
      const Interval r = interval_of_json(g->at("colour_recall"));
      std::string text = format_interval(r);
      if (g->value("blind", false)) text += " (blind)";
      row.push_back({text, name != "truth" && std::isfinite(r.mean) && r.mean == best[i]});
    }
    row.push_back({name == "truth" ? "–" : horizon_text(m), false});
    t.rows.push_back(name);
    t.cells.push_back(row);
  }
  std::vector<TableCell> chance = {{"no memory", false}};
  for (int64_t g : gaps) {
    const std::string key = std::to_string(g);
    chance.push_back({chance_of.contains(key) && chance_of[key].is_number() ? format_number(chance_of[key].get<double>()) : "–",
                      false});
  }
  chance.push_back({"–", false});
  t.rows.push_back("chance");
  t.cells.push_back(chance);
  return t;
}

std::vector<std::string> memory_findings(const nlohmann::json& memory) {
  std::vector<std::string> out;
  const nlohmann::json& methods = memory.at("methods");
  const double margin = memory.value("horizon_margin", 0.1);
  auto window_of = [](const nlohmann::json& m) {
    return m.contains("window") && m.at("window").is_number() ? m.at("window").get<int64_t>() : int64_t{-1};
  };
  // The shortest window of the windowed models: the gap from which they are all blind.
  int64_t window = 0;
  std::vector<std::string> blind, beyond, state_short;
  for (const auto& [name, m] : methods.items()) {
    if (name == "truth") continue;
    const int64_t w = window_of(m);
    if (w > 0 && m.value("sink", int64_t{0}) == 0) {
      blind.push_back(name);
      window = window == 0 ? w : std::min(window, w);
    }
  }
  for (const auto& [name, m] : methods.items()) {
    if (name == "truth") continue;
    const int64_t w = window_of(m);
    // Remembered past what a window of the shortest length could show: the horizon's lower end.
    const double lo = m.contains("horizon") ? number_or_nan(m.at("horizon"), "lo") : kNaN;
    const double reach = static_cast<double>(w > 0 ? w : window);
    if (std::isfinite(lo) && lo > 0 && lo >= reach) beyond.push_back(name);
    else if (w == 0) state_short.push_back(name);
  }
  auto list = [](const std::vector<std::string>& v) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) s += (i == 0 ? "" : i + 1 == v.size() ? " and " : ", ") + v[i];
    return s;
  };
  if (!blind.empty())
    out.push_back(list(blind) + (blind.size() == 1 ? " sees" : " see") + " a window of frames: from G = " +
                  std::to_string(window) +
                  " on, no frame from before the gap is in it, so recall there is at chance by construction, "
                  "not a measured failure to remember (cells marked blind).");
  if (!beyond.empty())
    out.push_back(list(beyond) + " kept colour recall more than " + format_number(margin) +
                  " above chance at every gap up to a memory horizon whose 95% interval lies at or beyond " +
                  (window > 0 ? "G = " + std::to_string(window) + ", where the windowed models are blind." : "the smallest gap."));
  if (!state_short.empty())
    out.push_back(list(state_short) + (state_short.size() == 1 ? " carries" : " carry") +
                  " a recurrent state that could in principle hold the past, but its memory horizon's 95% interval "
                  "does not reach " + (window > 0 ? "G = " + std::to_string(window) : "the smallest gap") + ".");
  // Nobody above chance even at the smallest gap: the sweep then measures no memory at all.
  bool none = true;
  int64_t smallest = 0;
  for (const auto& [name, m] : methods.items()) {
    if (name == "truth") continue;
    const double hi = m.contains("horizon") ? number_or_nan(m.at("horizon"), "hi") : kNaN;
    none = none && std::isfinite(hi) && hi == 0;
    if (m.contains("gaps") && !m.at("gaps").empty() && m.at("gaps").at(0).contains("gap"))
      smallest = m.at("gaps").at(0).at("gap").get<int64_t>();
  }
  if (none && smallest > 0) {
    out.push_back("No method keeps colour recall " + format_number(margin) + " above chance even at the smallest gap, G = " +
                  std::to_string(smallest) +
                  (window > smallest ? ", where every window still holds frames from before the gap" : "") +
                  ": these models have not learned to carry an object through a gap at all, so the sweep cannot "
                  "tell forgetting from never having learned it.");
  } else if (beyond.empty()) {
    out.push_back("No method remembers the objects' colours beyond that point at the 95% level.");
  }
  return out;
}

}  // namespace dfb

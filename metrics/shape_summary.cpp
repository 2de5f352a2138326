#include "metrics/shape_summary.h"

#include <cstdio>

#include "base/error.h"
#include "metrics/shape_count.h"

namespace dfb {

std::vector<ShapeShare> shape_count_shares(const Clips& generated, const Clips& truth, int expected, int64_t context,
                                           int64_t t_train, const std::vector<int64_t>& multiples) {
  if (generated.count != truth.count || generated.length != truth.length)
    throw Error("shape count: generated and true clips differ in shape");
  const std::vector<uint8_t> ok_gen = shape_count_correct(generated, expected);
  const std::vector<uint8_t> ok_true = shape_count_correct(truth, expected);
  std::vector<ShapeShare> out;
  auto add = [&](const std::string& name, int64_t first, int64_t last) {
    first = std::max(first, context);
    last = std::min(last, generated.length);
    if (last <= first) return;
    ShapeShare s{name, first, last};
    int64_t good_gen = 0, good_true = 0;
    for (int64_t i = 0; i < generated.count; ++i)
      for (int64_t t = first; t < last; ++t) {
        good_gen += ok_gen[i * generated.length + t];
        good_true += ok_true[i * generated.length + t];
      }
    s.frames = generated.count * (last - first);
    s.generated = static_cast<double>(good_gen) / s.frames;
    s.truth = static_cast<double>(good_true) / s.frames;
    out.push_back(s);
  };
  add("within T_train", 0, t_train);
  for (int64_t k : multiples)
    if (k * t_train <= generated.length) add("at " + std::to_string(k) + "x", (k - 1) * t_train, k * t_train);
  return out;
}

nlohmann::json to_json(const std::vector<ShapeShare>& shares) {
  nlohmann::json j = nlohmann::json::array();
  for (const ShapeShare& s : shares)
    j.push_back({{"window", s.window}, {"first", s.first}, {"last", s.last}, {"frames", s.frames},
                 {"generated", s.generated}, {"truth", s.truth}});
  return j;
}

std::string format_table(const std::string& method, const std::vector<ShapeShare>& shares) {
  std::string out = "right shape count, " + method + " (share of generated frames; ground truth beside it)\n";
  char line[160];
  std::snprintf(line, sizeof line, "  %-16s %-12s %8s %10s %8s\n", "window", "frames t", "count", "generated", "truth");
  out += line;
  for (const ShapeShare& s : shares) {
    const std::string range = "[" + std::to_string(s.first) + ", " + std::to_string(s.last) + ")";
    std::snprintf(line, sizeof line, "  %-16s %-12s %8lld %9.1f%% %7.1f%%\n", s.window.c_str(), range.c_str(),
                  static_cast<long long>(s.frames), 100 * s.generated, 100 * s.truth);
    out += line;
  }
  return out;
}

std::string format_comparison(const std::vector<std::pair<std::string, std::vector<ShapeShare>>>& methods) {
  if (methods.empty()) return "";
  const std::vector<ShapeShare>& windows = methods.front().second;
  std::string out = "right shape count, share of generated frames per window\n";
  char cell[64];
  auto row = [&](const std::string& name, auto value) {
    std::snprintf(cell, sizeof cell, "  %-22s", name.c_str());
    out += cell;
    for (size_t i = 0; i < windows.size(); ++i) {
      std::snprintf(cell, sizeof cell, " %15s", value(i).c_str());
      out += cell;
    }
    out += "\n";
  };
  auto percent = [](double x) {
    char b[16];
    std::snprintf(b, sizeof b, "%.1f%%", 100 * x);
    return std::string(b);
  };
  row("method", [&](size_t i) { return windows[i].window; });
  for (const auto& [name, shares] : methods)
    row(name, [&, &shares = shares](size_t i) { return i < shares.size() ? percent(shares[i].generated) : std::string("-"); });
  row("(ground truth)", [&](size_t i) { return percent(windows[i].truth); });
  return out;
}

}  // namespace dfb

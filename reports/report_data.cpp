// Reading evaluated runs back for a report (see report_data.h).
#include "reports/report_data.h"

#include <filesystem>

#include "base/error.h"
#include "base/files.h"
#include "formats/curves_file.h"

namespace dfb {

std::string set_label(const ReportRun& run, const std::string& set, size_t runs) {
  return runs > 1 ? run.name + "/" + set : set;
}

ReportData read_report_data(const std::vector<std::string>& run_dirs) {
  if (run_dirs.empty()) throw Error("report: no run folder given (--runs runs/smoke)");
  ReportData d;
  for (const std::string& dir : run_dirs) {
    ReportRun run;
    run.dir = dir;
    run.name = std::filesystem::path(dir).lexically_normal().filename().string();
    if (run.name.empty()) run.name = std::filesystem::path(dir).lexically_normal().parent_path().filename().string();
    const std::string mpath = dir + "/metrics.json", cpath = dir + "/curves.csv";
    if (!std::filesystem::exists(mpath))
      throw Error(mpath + " is missing: run `dfbench reproduce` (or `dfbench evaluate --out " + dir + "`) first");
    try {
      run.metrics = nlohmann::json::parse(read_file(mpath));
    } catch (const nlohmann::json::exception& e) {
      throw Error(mpath + ": not valid JSON (" + e.what() + ")");
    }
    if (run.metrics.value("format", "") != "dfbench metrics")
      throw Error(mpath + ": not a dfbench metrics file (format = \"dfbench metrics\" missing)");
    for (const auto& s : run.metrics["inputs"]["samples"]) run.samples.push_back(s.get<std::string>());
    const std::string config = run.samples.empty() ? "" :
        (std::filesystem::path(run.samples.front()).parent_path() / "config.json").string();
    if (!config.empty() && std::filesystem::exists(config)) run.config = nlohmann::json::parse(read_file(config));
    d.runs.push_back(run);
  }
  const nlohmann::json& in = d.runs.front().metrics["inputs"];
  d.context = in["context"], d.t_train = in["t_train"], d.length = in["length"];
  const size_t n = d.runs.size();
  for (const ReportRun& run : d.runs) {
    std::vector<std::string> sets;
    for (const auto& m : run.metrics["methods"]) sets.push_back(m.get<std::string>());
    sets.push_back("truth");
    for (const std::string& s : sets) d.sets.push_back(set_label(run, s, n));
    for (auto& [metric, info] : run.metrics["metrics"].items()) {
      if (!d.metric_info.count(metric)) {
        d.metrics.push_back(metric);
        nlohmann::json i = info;
        i.erase("methods");
        d.metric_info[metric] = i;
      }
      for (auto& [set, summary] : info["methods"].items())
        d.summaries[metric][set_label(run, set, n)] =
            summaries_from_json(summary, run.dir + "/metrics.json: metrics." + metric + ".methods." + set);
    }
    for (const CurveRow& r : read_curves_csv(run.dir + "/curves.csv"))
      d.curves[{set_label(run, r.method, n), r.metric}].push_back({r.t, r.mean, r.lo, r.hi});
  }
  return d;
}

}  // namespace dfb

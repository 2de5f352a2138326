// Reading evaluated runs back for a report (see report_data.h).
#include "reports/report_data.h"

#include <cctype>
#include <filesystem>
#include <limits>
#include <utility>

#include "base/error.h"
#include "base/files.h"
#include "formats/curves_file.h"

namespace dfb {

namespace {

double number_or_nan(const nlohmann::json& v, const std::string& where) {
  if (v.is_null()) return std::numeric_limits<double>::quiet_NaN();
  if (!v.is_number()) throw Error(where + ": expected a number or null");
  return v.get<double>();
}

const nlohmann::json& member(const nlohmann::json& j, const char* key, const std::string& where) {
  if (!j.is_object() || !j.contains(key)) throw Error(where + ": " + key + " is missing");
  return j[key];
}

// One run's comparisons.<metric> into `out`, labels through set_label.
void read_comparison(const nlohmann::json& j, const ReportRun& run, size_t runs, const std::string& where,
                     MetricComparison& out) {
  const nlohmann::json& higher = member(j, "higher_is_better", where);
  if (!higher.is_boolean()) throw Error(where + ".higher_is_better: expected true or false");
  out.higher_is_better = higher.get<bool>();
  const nlohmann::json& pairs = member(j, "pairs", where);
  if (!pairs.is_array()) throw Error(where + ".pairs: expected an array");
  for (size_t i = 0; i < pairs.size(); ++i) {
    const std::string at = where + ".pairs[" + std::to_string(i) + "]";
    PairComparison c;
    for (auto [key, field] : {std::pair<const char*, std::string*>{"a", &c.a}, {"b", &c.b}, {"window", &c.window}}) {
      const nlohmann::json& v = member(pairs[i], key, at);
      if (!v.is_string()) throw Error(at + "." + key + ": expected a string");
      *field = v.get<std::string>();
    }
    c.a = set_label(run, c.a, runs), c.b = set_label(run, c.b, runs);
    c.p = interval_from_json(member(pairs[i], "p", at), at + ".p");
    const nlohmann::json& v = member(pairs[i], "verdict", at);
    if (!v.is_string() || (v != "a" && v != "b" && v != "none"))
      throw Error(at + ".verdict: expected \"a\", \"b\" or \"none\"");
    c.verdict = v == "a" ? 1 : v == "b" ? -1 : 0;
    out.pairs.push_back(c);
  }
  const nlohmann::json& methods = member(j, "methods", where);
  if (!methods.is_object()) throw Error(where + ".methods: expected an object");
  for (auto& [method, windows] : methods.items()) {
    if (!windows.is_object()) throw Error(where + ".methods." + method + ": expected an object");
    for (auto& [window, w] : windows.items()) {
      const std::string at = where + ".methods." + method + "." + window;
      WindowStats s;
      s.mean = interval_from_json(member(w, "mean", at), at + ".mean");
      s.iqm = interval_from_json(member(w, "iqm", at), at + ".iqm");
      const nlohmann::json& seeds = member(w, "per_seed", at);
      if (!seeds.is_array()) throw Error(at + ".per_seed: expected an array");
      for (const auto& x : seeds) s.per_seed.push_back(number_or_nan(x, at + ".per_seed"));
      s.seed_sd = number_or_nan(member(w, "seed_sd", at), at + ".seed_sd");
      out.stats[set_label(run, method, runs)][window] = s;
    }
  }
}

int64_t integer(const nlohmann::json& j, const char* key, const std::string& where) {
  const nlohmann::json& v = member(j, key, where);
  if (!v.is_number_integer()) throw Error(where + "." + key + ": expected an integer");
  return v.get<int64_t>();
}

// metrics.json "training.<method>" (metrics/training_summary.h).
std::vector<TrainingRun> read_training(const nlohmann::json& j, const std::string& where) {
  const nlohmann::json& runs = member(j, "runs", where);
  if (!runs.is_array()) throw Error(where + ".runs: expected an array");
  std::vector<TrainingRun> out;
  for (size_t i = 0; i < runs.size(); ++i) {
    const std::string at = where + ".runs[" + std::to_string(i) + "]";
    const nlohmann::json& r = runs[i];
    TrainingRun t;
    t.steps = integer(r, "steps", at), t.batch = integer(r, "batch", at), t.frames = integer(r, "frames", at);
    t.parameters = integer(r, "parameters", at);
    t.flops = number_or_nan(member(r, "flops", at), at + ".flops");
    t.train_seconds = number_or_nan(member(r, "train_seconds", at), at + ".train_seconds");
    t.final_loss = number_or_nan(member(r, "final_loss", at), at + ".final_loss");
    const nlohmann::json& loss = member(r, "loss", at);
    if (!loss.is_array()) throw Error(at + ".loss: expected an array");
    for (const nlohmann::json& p : loss) {
      if (!p.is_array() || p.size() != 2 || !p[0].is_number_integer()) throw Error(at + ".loss: expected [step, loss] pairs");
      t.loss.push_back({p[0].get<int64_t>(), number_or_nan(p[1], at + ".loss")});
    }
    const nlohmann::json& val = member(r, "validation", at);
    if (!val.is_array()) throw Error(at + ".validation: expected an array");
    for (const nlohmann::json& p : val) {
      std::map<std::string, double> scores;
      for (auto& [name, v] : p.items())
        if (name != "step") scores[name] = number_or_nan(v, at + ".validation." + name);
      t.validation.push_back({integer(p, "step", at + ".validation"), scores});
    }
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace

std::string set_label(const ReportRun& run, const std::string& set, size_t runs) {
  return runs > 1 ? run.name + "/" + set : set;
}

std::string truth_label_of(const std::string& label) {
  const size_t slash = label.rfind('/');
  return slash == std::string::npos ? "truth" : label.substr(0, slash + 1) + "truth";
}

bool is_truth_label(const std::string& label) { return label == truth_label_of(label); }

namespace {
// Metric names become file names of the report (plots/<metric>.svg): letters, digits and _ only.
void check_metric_name(const std::string& metric, const std::string& where) {
  bool ok = !metric.empty() && metric.size() <= 64;
  for (char c : metric) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
  if (!ok) throw Error(where + ": the metric name '" + metric + "' must be 1 to 64 letters, digits or _");
}

// Only .at() on JSON from the file: nlohmann's const operator[] on a missing key is undefined
// behaviour (a read after free that fuzz_report_data found); .at() throws, and the caller turns
// that into an error naming the file.
ReportData read_report_data_unchecked(const std::vector<std::string>& run_dirs) {
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
    for (const auto& s : run.metrics.at("inputs").at("samples")) run.samples.push_back(s.get<std::string>());
    const std::string config = run.samples.empty() ? "" :
        (std::filesystem::path(run.samples.front()).parent_path() / "config.json").string();
    if (!config.empty() && std::filesystem::exists(config)) run.config = nlohmann::json::parse(read_file(config));
    d.runs.push_back(run);
  }
  const nlohmann::json& in = d.runs.front().metrics.at("inputs");
  d.context = in.at("context"), d.t_train = in.at("t_train"), d.length = in.at("length");
  const size_t n = d.runs.size();
  for (const ReportRun& run : d.runs) {
    std::vector<std::string> sets;
    for (const auto& m : run.metrics.at("methods")) sets.push_back(m.get<std::string>());
    sets.push_back("truth");
    for (const std::string& s : sets) d.sets.push_back(set_label(run, s, n));
    for (auto& [metric, info] : run.metrics.at("metrics").items()) {
      check_metric_name(metric, run.dir + "/metrics.json");
      if (!d.metric_info.count(metric)) {
        d.metrics.push_back(metric);
        nlohmann::json i = info;
        i.erase("methods");
        d.metric_info[metric] = i;
      }
      for (auto& [set, summary] : info.at("methods").items())
        d.summaries[metric][set_label(run, set, n)] =
            summaries_from_json(summary, run.dir + "/metrics.json: metrics." + metric + ".methods." + set);
    }
    if (run.metrics.contains("comparisons")) {
      const nlohmann::json& c = run.metrics.at("comparisons");
      if (!c.is_object()) throw Error(run.dir + "/metrics.json: comparisons: expected an object");
      for (auto& [metric, cj] : c.items())
        read_comparison(cj, run, n, run.dir + "/metrics.json: comparisons." + metric, d.comparisons[metric]);
    }
    if (run.metrics.contains("training")) {
      const nlohmann::json& t = run.metrics.at("training");
      if (!t.is_object()) throw Error(run.dir + "/metrics.json: training: expected an object");
      for (auto& [method, tj] : t.items())
        d.training[set_label(run, method, n)] = read_training(tj, run.dir + "/metrics.json: training." + method);
    }
    for (const CurveRow& r : read_curves_csv(run.dir + "/curves.csv"))
      d.curves[{set_label(run, r.method, n), r.metric}].push_back({r.t, r.mean, r.lo, r.hi});
  }
  return d;
}
}  // namespace

ReportData read_report_data(const std::vector<std::string>& run_dirs) {
  try {
    return read_report_data_unchecked(run_dirs);
  } catch (const nlohmann::json::exception& e) {  // a field of the wrong type or missing
    std::string files;
    for (const std::string& dir : run_dirs) files += (files.empty() ? "" : ", ") + dir + "/metrics.json";
    throw Error(files + ": not the layout dfbench writes (" + e.what() + ")");
  }
}

}  // namespace dfb

// The report of evaluated runs (see report.h).
#include "reports/report.h"

#include <algorithm>
#include <set>
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>

#include "base/error.h"
#include "base/files.h"
#include "formats/curves_file.h"
#include "formats/rollout_file.h"
#include "reports/gate.h"
#include "reports/media.h"
#include "reports/memory_section.h"
#include "reports/pairwise_table.h"
#include "reports/plots.h"
#include "reports/report_data.h"
#include "reports/summary_table.h"
#include "reports/text.h"
#include "reports/training_section.h"

namespace dfb {

namespace fs = std::filesystem;

namespace {

// The rollout file as metrics.json names it, or found again beside the run (when the
// evaluation ran from another working directory).
std::string find_samples(const ReportRun& run, const std::string& path) {
  if (fs::exists(path)) return path;
  const fs::path p(path);
  const fs::path beside = fs::path(run.dir) / p.parent_path().filename() / p.filename();
  if (fs::exists(beside)) return beside.string();
  throw Error(run.dir + "/metrics.json names " + path + ", which is missing");
}

std::string escape(const std::string& s) { return escape_html(s); }

// Checks the page itself once loaded: every image decoded, every video playable, no script
// error. scripts/check_report.sh reads the verdict from <body data-check="...">.
const char* kCheckScript = R"JS(
var dfbErrors = [];
window.addEventListener('error', function (e) { dfbErrors.push('script error: ' + e.message); });
window.addEventListener('load', function () {
  document.querySelectorAll('img').forEach(function (img) {
    if (!img.complete || img.naturalWidth === 0) dfbErrors.push('image not loaded: ' + img.alt);
  });
  var videos = Array.prototype.slice.call(document.querySelectorAll('video'));
  var pending = videos.length;
  function done() {
    document.body.setAttribute('data-check', dfbErrors.length ? 'fail: ' + dfbErrors.join('; ') : 'ok');
  }
  if (!pending) return done();
  videos.forEach(function (v) {
    function settle(ok, why) { if (!ok) dfbErrors.push('video: ' + why); if (--pending === 0) done(); }
    if (v.readyState >= 1) return settle(true);
    v.addEventListener('loadedmetadata', function () { settle(true); }, { once: true });
    v.addEventListener('error', function () { settle(false, 'cannot be decoded'); }, { once: true });
  });
});
)JS";

const char* kStyle = R"CSS(
body { font-family: system-ui, Helvetica, Arial, sans-serif; max-width: 1180px; margin: 2em auto; padding: 0 1em; color: #222; }
h1 { margin-bottom: 0.2em; } .sub { color: #666; margin-top: 0; }
.headline { font-size: 1.15em; background: #f3f6fa; border-left: 4px solid #0072B2; padding: 0.7em 1em; }
.plots { display: grid; grid-template-columns: repeat(auto-fill, minmax(540px, 1fr)); gap: 1em; }
.plots svg { width: 100%; height: auto; } figure.wide { margin: 0; } figure.wide svg { width: 100%; height: auto; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.92em; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3em 0.7em; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
td.best { font-weight: bold; background: #e8f4ea; } tr.truth td { color: #666; font-style: italic; }
.pairwise caption { caption-side: top; text-align: left; padding-bottom: 0.4em; color: #444; }
.pairwise td.win { background: #e6f2ea; } .pairwise td.loss { background: #f8e8e8; }
.strips td { text-align: left; } .strips img { image-rendering: pixelated; }
pre { background: #f7f7f7; padding: 1em; overflow-x: auto; font-size: 0.85em; }
)CSS";

}  // namespace

std::string build_report(const ReportOptions& o) {
  const ReportData d = read_report_data(o.runs);
  const std::string out = o.out.empty() ? o.runs.front() + "/report" : o.out;
  make_dirs(out + "/plots");
  make_dirs(out + "/strips");
  const std::string work = out + "/plots/.gnuplot";

  // Rollout o.rollout of every method and the truth, from the rollout files.
  struct Shown {
    std::string label;
    Clips clips;
  };
  std::vector<Shown> shown;
  for (const ReportRun& run : d.runs) {
    std::string truth_file;
    std::set<std::string> done;  // a method's other seeds (later files) are not shown again
    for (const std::string& s : run.samples) {
      const RolloutFile file = open_rollout_file(find_samples(run, s));
      for (const std::string& g : file.methods)
        if (done.insert(g).second)
          shown.push_back({set_label(run, g, d.runs.size()), read_one_rollout(file, g, o.rollout)});
      truth_file = file.path;
    }
    if (!truth_file.empty())
      shown.push_back({set_label(run, "truth", d.runs.size()),
                       read_one_rollout(open_rollout_file(truth_file), "truth", o.rollout)});
  }

  // Strips at t = 0, T, 2T, 4T, 8T (the last frame when the rollout is shorter).
  std::vector<int64_t> times = {0};
  for (int64_t k : {1, 2, 4, 8})
    if (k * d.t_train <= d.length) times.push_back(std::min(k * d.t_train, d.length - 1));
  times.erase(std::unique(times.begin(), times.end()), times.end());
  const int64_t side = shown.empty() ? 32 : shown.front().clips.width;
  const int scale = side <= 32 ? 3 : side <= 64 ? 2 : 1;

  std::string html = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>dfbench report: " +
                     escape(d.runs.front().name) + "</title><style>" + kStyle + "</style><script>" + kCheckScript +
                     "</script></head><body>\n";
  std::string md, tex = "% dfbench tables; needs \\usepackage{booktabs} (and amsmath for \\text)\n";
  std::string names;
  for (const ReportRun& r : d.runs) names += (names.empty() ? "" : ", ") + r.name;
  // Lead with the verdict the pairwise statistics support; the ranking by means follows it.
  const std::string vmetric = verdict_metric(d);
  const std::string vwindow = vmetric.empty() ? "" : largest_window(d, vmetric);
  const auto gate = fair_opponent_gate(d);
  const std::set<std::string> below = below_gate(gate);
  const std::optional<PairwiseTable> verdict =
      vmetric.empty() ? std::nullopt : pairwise_table(d, vmetric, vwindow, below);
  const std::string gated = gate_sentence(gate);
  const std::string head = (verdict && verdict->methods.size() >= 2 ? verdict_sentence(*verdict) : headline(d, below)) +
                           (gated.empty() ? "" : " " + gated);
  html += "<h1>dfbench: " + escape(names) + "</h1><p class=\"sub\">" + std::to_string(d.sets.size()) +
          " video sets, rollouts of " + std::to_string(d.length) + " frames from " + std::to_string(d.context) +
          " context frames, T_train = " + std::to_string(d.t_train) + "; 95% bootstrap intervals over rollouts</p>\n";
  html += "<p class=\"headline\">" + escape(head) + "</p>\n";
  md += "# dfbench report: " + escape_markdown(names) + "\n\n" + escape_markdown(head) + "\n\n";
  if (verdict && verdict->methods.size() >= 2) {
    const std::string ranking = headline(d, below);
    html += "<h2>Verdict</h2>\n" + pairwise_html(*verdict) + "<p>" + escape(ranking) + "</p>\n";
    md += "## Verdict\n\n" + pairwise_markdown(*verdict) + "\n" + escape_markdown(ranking) + "\n\n";
    tex += pairwise_latex(*verdict) + "\n";
    std::string others;
    std::vector<std::string> windows;  // in the order metrics.json lists them: within, 2, 3, ...
    for (const PairComparison& c : d.comparisons.at(vmetric).pairs)
      if (std::find(windows.begin(), windows.end(), c.window) == windows.end()) windows.push_back(c.window);
    for (const std::string& window : windows) {
      if (window == vwindow) continue;
      if (const auto t = pairwise_table(d, vmetric, window, below)) {
        others += pairwise_html(*t);
        md += pairwise_markdown(*t) + "\n";
      }
    }
    if (!others.empty()) html += "<details><summary>The other windows</summary>\n" + others + "</details>\n";
  }

  if (!gate.empty()) {
    const GateResult& any = gate.begin()->second;
    const bool oracle = any.metric == "oracle_valid";
    const GateOptions rules;
    const std::string rule = oracle ? "oracle_valid within T_train at least " + format_number(rules.oracle_share) + " × the truth's"
                                    : "fd_self within T_train at most " + format_number(rules.fd_factor) + " × the truth's";
    html += "<h2>Fair-opponent gate</h2><p>A method is ranked only when its quality within the training length "
            "reaches the gate (" + escape(rule) + "). Below it, its training's validation says whether it "
            "was still improving (undertrained) or had stopped, so that more of the same training would not "
            "obviously lift it.</p>\n"
            "<table><tr><th>method</th><th>" + escape(any.metric) + " within T_train</th><th>gate</th><th></th></tr>\n";
    md += "## Fair-opponent gate (" + rule + ")\n\n| method | " + any.metric + " within T_train | gate | |\n| --- | --- | --- | --- |\n";
    for (const auto& [label, g] : gate) {
      const std::string status = gate_status(g);
      html += "<tr><td>" + escape(label) + "</td><td>" + format_number(g.value) + "</td><td>" + format_number(g.threshold) +
              "</td><td>" + escape(status) + "</td></tr>\n";
      md += "| " + markdown_code(label) + " | " + format_number(g.value) + " | " + format_number(g.threshold) + " | " + status + " |\n";
    }
    html += "</table>\n";
    md += "\n";
  }
  if (!d.training.empty()) {
    const SummaryTable t = training_table(d);
    std::map<std::string, double> thresholds;  // the gate drawn on the validation oracle curves
    for (const auto& [label, g] : gate)
      if (g.metric == "oracle_valid") thresholds[label] = g.threshold;
    const std::string svg = plot_training(d, thresholds, work);
    write_file_atomic(out + "/plots/training.svg", svg);
    const std::string about =
        "What each method's training cost (the mean over its seeds; FLOPs are the matrix and convolution work "
        "counted from one step's operators) and how it converged: the logged training loss and, every few hundred "
        "steps, the EMA weights' loss on held-out clips and the share of valid frames in their rollouts of "
        "T_train frames (the dotted line is the method's fair-opponent gate).";
    html += "<h2>Training</h2><p>" + escape(about) + "</p>" + table_html(t) + "\n<figure class=\"wide\">" + svg +
            "</figure>\n";
    md += "## Training\n\n" + about + "\n\n" + table_markdown(t) + "\n![training](plots/training.svg)\n\n";
    tex += table_latex(t) + "\n";
  }
  // Memory: recall after a gap, where the evaluation has a memory section (docs/metrics.md "Memory").
  for (const ReportRun& r : d.runs) {
    if (!r.metrics.contains("memory") || !r.metrics.at("memory").is_object()) continue;
    const nlohmann::json& memory = r.metrics.at("memory");
    const SummaryTable t = memory_table(memory);
    const std::string svg = plot_memory(memory, work);
    write_file_atomic(out + "/plots/memory.svg", svg);
    const std::string about =
        "What each model still knows about objects it last saw before a gap of G frames (a blackout): given the "
        "frames up to the end of the gap, it continues them, and the first " +
        std::to_string(memory.value("frames_after", 2)) +
        " frames it makes are matched to the returning objects' true states. Colour recall is the share drawn in "
        "their own colour; chance is what a model with no memory of the clip scores (other clips' frames in its "
        "place); the memory horizon is the largest gap up to which recall stays above chance by " +
        format_number(memory.value("horizon_margin", 0.1)) + " (docs/metrics.md).";
    std::string findings;
    for (const std::string& f : memory_findings(memory)) findings += (findings.empty() ? "" : " ") + f;
    html += "<h2>Memory" + (d.runs.size() > 1 ? " (" + escape(r.name) + ")" : std::string()) + "</h2><p>" +
            escape(about) + "</p>" + table_html(t) + "\n<p>" + escape(findings) + "</p><figure class=\"wide\">" + svg +
            "</figure>\n";
    md += "## Memory\n\n" + about + "\n\n" + table_markdown(t) + "\n" + findings + "\n\n![memory](plots/memory.svg)\n\n";
    tex += table_latex(t) + "\n";
  }
  // Quality: per-window means first (readable at a glance), one method against the truth for the
  // verdict's metric, and every curve overlaid last, folded.
  html += "<h2>Quality per window</h2><p>Each metric's mean within the training length and at each multiple of "
          "it, with 95% bootstrap intervals over rollouts (and seeds).</p><div class=\"plots\">\n";
  md += "## Quality per window\n\n";
  for (const std::string& m : key_metrics(d)) {
    const std::string svg = plot_windows(d, m, work);
    write_file_atomic(out + "/plots/" + m + ".windows.svg", svg);
    html += "<figure>" + svg + "</figure>\n";
    md += "![" + escape_markdown(m) + " per window](plots/" + m + ".windows.svg)\n";
  }
  html += "</div>\n";
  const std::vector<std::string> keys = key_metrics(d);
  const std::string panel_metric = !vmetric.empty() ? vmetric : keys.empty() ? "" : keys.front();
  if (!panel_metric.empty()) {
    const std::string svg = plot_against_truth(d, panel_metric, work);
    write_file_atomic(out + "/plots/" + panel_metric + ".panels.svg", svg);
    html += "<h2>Each method against the truth</h2><figure class=\"wide\">" + svg + "</figure>\n";
    md += "\n## Each method against the truth\n\n![" + escape_markdown(panel_metric) + " per method](plots/" + panel_metric +
          ".panels.svg)\n";
  }
  html += "<details><summary>Every curve overlaid, per metric</summary><div class=\"plots\">\n";
  md += "\n## Every curve overlaid\n\n";
  for (const std::string& m : keys) {
    const std::string svg = plot_metric(d, m, work);
    write_file_atomic(out + "/plots/" + m + ".svg", svg);
    html += "<figure>" + svg + "</figure>\n";
    md += "![" + escape_markdown(m) + "](plots/" + m + ".svg)\n";
  }
  html += "</div></details>\n<h2>Summary</h2>\n<p>Per metric: the value within the training length, at each multiple of it, "
          "ΔDrift (first vs last 15% of the generated frames) and the stable horizon (first frame outside the band "
          "the real data spans). Best per column in bold; the truth is the reference.</p>\n";
  md += "\n## Summary (best per column in bold)\n\n";
  for (const std::string& m : key_metrics(d)) {
    const SummaryTable t = summary_table(d, m);
    const std::string what = d.metric_info.at(m).value("what", "");
    html += "<h3>" + escape(m) + " <small>(" + escape(t.better) + " is better)</small></h3><p>" + escape(what) + "</p>" + table_html(t) + "\n";
    md += "### " + escape_markdown(m) + " (" + escape_markdown(t.better) + " is better)\n\n" + table_markdown(t) + "\n";
    tex += table_latex(t) + "\n";
  }

  html += "<h2>Rollouts</h2><p>Rollout " + std::to_string(o.rollout) + " of each method at t = ";
  for (size_t i = 0; i < times.size(); ++i) html += (i ? ", " : "") + std::to_string(times[i]);
  html += ".</p><table class=\"strips\">\n";
  md += "## Rollouts\n\n";
  std::vector<MediaTile> tiles;
  for (size_t i = 0; i < shown.size(); ++i) {
    const std::vector<uint8_t> png = strip_png(shown[i].clips, 0, times, scale);
    std::string file = shown[i].label;
    std::replace(file.begin(), file.end(), '/', '_');
    write_file_atomic(out + "/strips/" + file + ".png", std::string(png.begin(), png.end()));
    html += "<tr><td>" + escape(shown[i].label) + "</td><td><img alt=\"strip " + escape(shown[i].label) +
            "\" src=\"data:image/png;base64," + base64(png) + "\"></td></tr>\n";
    md += markdown_code(shown[i].label) + "\n\n![" + escape_markdown(shown[i].label) + "](strips/" + percent_encode(file) +
          ".png)\n\n";
    tiles.push_back({shown[i].label, &shown[i].clips});
  }
  html += "</table>\n";
  if (!tiles.empty()) {
    side_by_side_video(tiles, 0, scale, 8.0, out + "/video.webm");
    const std::string video = read_file(out + "/video.webm");
    html += "<h2>Video</h2><p>Every method beside the truth, rollout " + std::to_string(o.rollout) +
            ", 8 frames per second.</p><video controls autoplay loop muted playsinline src=\"data:video/webm;base64," +
            base64(std::vector<uint8_t>(video.begin(), video.end())) + "\"></video>\n";
    md += "## Video\n\n[video.webm](video.webm): every method beside the truth.\n\n";
  }

  html += "<h2>Run</h2>\n";
  for (const ReportRun& r : d.runs) {
    nlohmann::json about = {{"run", r.dir},
                            {"inputs", r.metrics.value("inputs", nlohmann::json())},
                            {"bootstrap", r.metrics.value("bootstrap", nlohmann::json())},
                            {"encoders", r.metrics.value("encoders", nlohmann::json())},
                            {"environment", r.metrics.value("environment", nlohmann::json())},
                            {"config", r.config}};
    html += "<h3>" + escape(r.name) + "</h3><pre>" + escape(about.dump(2)) + "</pre>\n";
  }
  html += "</body></html>\n";

  // The evaluation beside the report: one run's files, or every run's metrics under its name.
  if (d.runs.size() == 1) {
    write_file_atomic(out + "/curves.csv", read_file(d.runs.front().dir + "/curves.csv"));
    write_file_atomic(out + "/metrics.json", read_file(d.runs.front().dir + "/metrics.json"));
  } else {
    nlohmann::json all = nlohmann::json::object();
    std::vector<CurveRow> rows;
    for (const ReportRun& r : d.runs) all[r.name] = r.metrics;
    for (const auto& [key, curve] : d.curves)
      for (const CurvePoint& p : curve) rows.push_back({key.first, key.second, p.t, p.mean, p.lo, p.hi});
    write_file_atomic(out + "/metrics.json", all.dump(2) + "\n");
    write_file_atomic(out + "/curves.csv", curves_csv_text(rows));
  }
  write_file_atomic(out + "/report.md", md);
  write_file_atomic(out + "/table.tex", tex);
  write_file_atomic(out + "/index.html", html);
  fs::remove_all(work);
  return out + "/index.html";
}

}  // namespace dfb

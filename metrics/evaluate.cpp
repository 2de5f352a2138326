// dfbench evaluate (see evaluate.h): per-rollout frame values, Fréchet distances per
// frame index and per window, bootstrap curves and summaries, metrics.json and curves.csv.
#include "metrics/evaluate.h"

#include <torch/torch.h>

#include <ATen/Parallel.h>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include "tensor/compat.h"
#include "base/error.h"
#include "formats/curves_file.h"
#include "base/files.h"
#include "base/progress.h"
#include "tensor/environment.h"
#include "base/suggest.h"
#include "formats/dataset_file.h"
#include "metrics/comparison.h"
#include "metrics/frame_values.h"
#include "metrics/frechet.h"
#include "metrics/memory_evaluation.h"
#include "metrics/training_summary.h"
#include "formats/rollout_file.h"

namespace dfb {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr const char* kTruth = "truth";

// The rollouts of every file: methods by name, one shared truth. A method found in several
// files (its seeds, from reproduce --seeds) is pooled: its rollouts are all of theirs.
struct Inputs {
  std::vector<RolloutFile> files;
  std::vector<std::pair<std::string, std::vector<size_t>>> methods;  // name, indices into files
  const Clips& truth() const { return files.front().truth; }
  int64_t context() const { return files.front().context; }
};

Inputs open_inputs(const EvaluateOptions& o) {
  if (o.samples.empty()) throw Error("evaluate: no rollout file given (--samples FILE.h5)");
  if (!o.train_runs.empty() && o.train_runs.size() != o.samples.size())
    throw Error("evaluate: " + std::to_string(o.train_runs.size()) + " training runs given for " +
                std::to_string(o.samples.size()) + " rollout files; give one per file (\"\" where unknown)");
  Inputs in;
  std::map<std::string, size_t> seen;  // method -> index into in.methods
  for (const std::string& path : o.samples) {
    in.files.push_back(open_rollout_file(path));
    const RolloutFile& f = in.files.back(), &first = in.files.front();
    if (f.context != first.context || f.t_train != first.t_train || f.truth.frames.size() != first.truth.frames.size())
      throw Error(path + ": its truth, context or t_train differ from " + first.path +
                  "'s; files evaluated together must continue the same clips");
    for (const std::string& m : f.methods) {
      if (!seen.count(m)) {
        seen[m] = in.methods.size();
        in.methods.push_back({m, {in.files.size() - 1}});
        continue;
      }
      const RolloutFile& other = in.files[in.methods[seen[m]].second.front()];
      if (f.truth.frames != other.truth.frames)
        throw Error("method '" + m + "' is in both " + other.path + " and " + path +
                    " with different truth clips; files of one method are pooled as its seeds only when they "
                    "continue the same clips");
      in.methods[seen[m]].second.push_back(in.files.size() - 1);
    }
  }
  if (o.t_train > 0)
    for (RolloutFile& f : in.files) f.t_train = o.t_train;
  if (in.files.front().t_train < 1)
    throw Error(in.files.front().path + ": the t_train attribute is missing; it sets the windows of the summaries "
                "(give it with --t-train)");
  return in;
}

// Clips one after the other (a method's seeds; the truth repeated to match them).
Clips concat_clips(const std::vector<const Clips*>& parts) {
  Clips out = *parts.front();
  for (size_t i = 1; i < parts.size(); ++i) {
    const Clips& p = *parts[i];
    out.count += p.count;
    out.frames.insert(out.frames.end(), p.frames.begin(), p.frames.end());
    out.states.insert(out.states.end(), p.states.begin(), p.states.end());
    out.colors.insert(out.colors.end(), p.colors.begin(), p.colors.end());
  }
  return out;
}

// Real frames for the references: a dataset file, or the truth frames of the rollout files.
Clips real_clips(const EvaluateOptions& o, const Clips& truth) {
  if (o.real.empty()) return truth;
  Clips real = read_dataset_file(o.real);
  if (real.height != truth.height || real.width != truth.width || real.channels != truth.channels)
    throw Error(o.real + ": frames are " + std::to_string(real.height) + "x" + std::to_string(real.width) + "x" +
                std::to_string(real.channels) + " but the rollouts' are " + std::to_string(truth.height) + "x" +
                std::to_string(truth.width) + "x" + std::to_string(truth.channels));
  return real;
}

// A seeded subset of at most `limit` frames of the clips, as one contiguous block.
std::vector<uint8_t> frame_pool(const Clips& clips, int64_t limit, uint64_t seed) {
  const int64_t total = clips.count * clips.length, fb = clips.frame_bytes();
  if (total <= limit) return clips.frames;
  at::Generator gen = make_generator(seed);
  const torch::Tensor picked = at::randperm(total, gen, torch::kInt64).slice(0, 0, limit);
  const torch::Tensor pick = std::get<0>(picked.sort());
  std::vector<uint8_t> out(static_cast<size_t>(limit * fb));
  for (int64_t i = 0; i < limit; ++i)
    std::memcpy(out.data() + i * fb, clips.frames.data() + pick[i].item<int64_t>() * fb, static_cast<size_t>(fb));
  return out;
}

// Window features of clips whose frame features are `f` [count·length, d] (clip-major):
// per clip and window [start, start + w), the mean of the features and the mean absolute
// change between consecutive frames → [count, 2d].
torch::Tensor window_features(const torch::Tensor& f, int64_t count, int64_t length, int64_t start, int64_t w) {
  const torch::Tensor x = f.view({count, length, f.size(1)}).slice(1, start, start + w);
  return torch::cat({x.mean(1), (x.slice(1, 1) - x.slice(1, 0, w - 1)).abs().mean(1)}, 1);
}

// Features standardised by the real ones: z = (f − mean) / std per feature, so a distance is
// in units of the real data's own spread, whatever the encoder's scale.
struct Standardize {
  torch::Tensor mean, std;
  explicit Standardize(const torch::Tensor& real)
      : mean(real.mean(0)), std(real.std(0).clamp_min(1e-12)) {}
  torch::Tensor operator()(const torch::Tensor& f) const { return (f - mean) / std; }
};

// One Fréchet metric: an encoder, and the references for frames and for windows.
struct FrechetMetric {
  std::string name;                        // fd_self / fd_random
  const FrameEncoder* encoder = nullptr;
  std::optional<Standardize> frame_scale, window_scale;
  std::optional<FrechetReference> frames;  // per frame index
  std::optional<FrechetReference> windows; // per window of w frames (name + "_w")
};

using Curves = std::vector<std::vector<double>>;  // [resample][t]

// Per-resample curves of one Fréchet metric for one video set (a method or the truth).
void frechet_curves(const FrechetMetric& m, const Clips& video, const torch::Tensor& picks, int64_t context,
                    int64_t w, const std::string& what, std::map<std::string, Curves>& out) {
  const torch::Tensor f = m.encoder->features(video.frames.data(), video.count * video.length);
  const int64_t resamples = picks.size(0), length = video.length;
  if (m.frames) {
    Curves& c = out[m.name];
    c.assign(resamples, std::vector<double>(length, kNaN));
    const torch::Tensor per_t = f.view({video.count, length, f.size(1)});
    for (int64_t t = 0; t < length; ++t) {
      const std::vector<double> d = m.frames->distances((*m.frame_scale)(per_t.select(1, t)), picks,
                                                        what + ", " + m.name + " at t = " + std::to_string(t));
      for (int64_t r = 0; r < resamples; ++r) c[r][t] = d[r];
    }
  }
  if (m.windows) {
    Curves& c = out[m.name + "_w"];
    c.assign(resamples, std::vector<double>(length, kNaN));
    for (int64_t start = context; start + w <= length; start += w) {
      const std::vector<double> d = m.windows->distances((*m.window_scale)(window_features(f, video.count, length, start, w)), picks,
                                                         what + ", " + m.name + " window at t = " + std::to_string(start));
      for (int64_t r = 0; r < resamples; ++r)
        for (int64_t t = start; t < start + w; ++t) c[r][t] = d[r];
    }
  }
}

// Fréchet distances are recomputed on each resample, which biases them upward: debiased intervals.
IntervalKind kind(const std::string& metric) {
  return metric.rfind("fd_", 0) == 0 ? IntervalKind::kDebiased : IntervalKind::kPercentile;
}

std::string number(double x) {
  char b[32];
  std::snprintf(b, sizeof b, "%.6g", x);
  return b;
}

}  // namespace

const std::vector<MetricInfo>& metric_catalogue() {
  static const std::vector<MetricInfo> c = {
      {"ssim", 1, "higher", "truth", "", "SSIM against the ground-truth frame (Gaussian 11x11, sigma 1.5, valid region)"},
      {"psnr", 1, "higher", "truth", "dB", "PSNR against the ground-truth frame, 10 log10(1/MSE), frames in [0, 1]"},
      {"mse", 1, "lower", "truth", "", "mean squared error against the ground-truth frame, frames in [0, 1]"},
      {"fd_self", 1, "lower", "encoder", "", "Frechet distance to real frames, features of the self-trained encoder"},
      {"fd_random", 1, "lower", "", "", "Frechet distance to real frames, features of the seeded random encoder"},
      {"fd_self_w", 1, "lower", "encoder", "", "Frechet distance of w-frame windows (feature mean and mean change), self-trained encoder"},
      {"fd_random_w", 1, "lower", "", "", "Frechet distance of w-frame windows (feature mean and mean change), random encoder"},
      {"oracle_valid", 1, "higher", "states", "", "share of frames with the right shape count and every shape's radius and colour within tolerance"},
      {"oracle_count", 1, "higher", "states", "", "share of frames with the right number of shapes"},
      {"oracle_radius_error", 1, "lower", "states", "px", "mean |radius - true radius| of the matched shapes"},
      {"oracle_color_error", 1, "lower", "states", "0..255", "mean RGB distance of the matched shapes' colour to the true colour"},
      {"oracle_position_error", 1, "lower", "states", "px", "mean distance of the matched shapes to the true positions (early horizon only)"},
      {"oracle_speed_error", 1, "lower", "states", "px/frame", "mean | |displacement| - true speed | between consecutive frames (steps that may include a bounce left out)"},
      {"oracle_jump", 1, "lower", "states", "", "share of frames where a shape jumps, appears or vanishes"},
      {"mean", 1, "closer to real", "", "", "mean grey value in [0, 1]"},
      {"contrast", 1, "closer to real", "", "", "standard deviation of the grey values"},
      {"sharpness", 1, "closer to real", "", "", "variance of the Laplacian of the grey values"},
      {"flicker", 1, "closer to real", "", "", "mean absolute difference to the previous frame"},
      {"histogram_distance", 1, "lower", "", "", "total variation distance of the grey histogram (32 bins) to the real frames'"},
  };
  return c;
}

Evaluation evaluate_rollouts(const EvaluateOptions& o) {
  {  // A memory sweep (a method's rollouts after gaps of several lengths): the memory section alone.
    std::vector<RolloutFile> files;
    for (const std::string& path : o.samples) files.push_back(open_rollout_file(path));
    if (!files.empty() && memory_sweep(files)) {
      Evaluation ev;
      nlohmann::json& j = ev.metrics;
      j = {{"format", "dfbench metrics"},
           {"schema_version", 2},
           {"inputs", {{"samples", o.samples}}},
           {"bootstrap", {{"resamples", o.bootstrap.resamples}, {"level", o.bootstrap.level}, {"seed", o.bootstrap.seed}}},
           {"environment", environment_json("cpu")},
           {"metrics", nlohmann::json::object()},
           {"memory", memory_section(files, o.bootstrap)}};
      ev.notes.push_back("per-frame metrics left out: the files continue different clips (a memory sweep); "
                         "evaluate the files of one gap length together for them");
      j["skipped"] = nlohmann::json::array({{{"metric", "per-frame metrics"}, {"reason", ev.notes.back()}}});
      ev.curves_csv = curves_csv_text({});
      return ev;
    }
  }
  const Inputs in = open_inputs(o);
  const Clips& truth = in.truth();
  const RolloutFile& head = in.files.front();
  const int64_t B = truth.count, L = truth.length, context = head.context;
  const Windows windows{context, head.t_train, L};
  Evaluation ev;

  // Which metrics: every one the inputs allow, or exactly those asked for.
  std::map<std::string, std::string> unavailable;  // name -> why
  const bool has_states = truth.objects > 0 && truth.channels == 3;
  const int64_t w = o.fd_window;
  std::optional<FrameEncoder> self;
  if (!o.encoder.empty()) {
    self.emplace(FrameEncoder::load(o.encoder));
    const EncoderInfo& i = self->info();
    if (i.height != truth.height || i.width != truth.width || i.channels != truth.channels)
      throw Error(o.encoder + ": the encoder takes " + std::to_string(i.height) + "x" + std::to_string(i.width) + "x" +
                  std::to_string(i.channels) + " frames but the rollouts' are " + std::to_string(truth.height) + "x" +
                  std::to_string(truth.width) + "x" + std::to_string(truth.channels));
  }
  std::optional<FrameEncoder> random;
  if (truth.height % 8 == 0 && truth.width % 8 == 0)
    random.emplace(FrameEncoder::random(truth.height, truth.width, truth.channels, o.random_encoder, o.random_seed));
  const Clips real = real_clips(o, truth);
  const int64_t real_windows = w > 0 ? real.count * ((real.length - (o.real.empty() ? context : 0)) / w) : 0;
  for (const MetricInfo& m : metric_catalogue()) {
    std::string why;
    const bool windowed = m.name.size() > 2 && m.name.compare(m.name.size() - 2, 2, "_w") == 0;
    const std::string base = windowed ? m.name.substr(0, m.name.size() - 2) : m.name;
    const FrameEncoder* enc = base == "fd_self" ? (self ? &*self : nullptr) : base == "fd_random" ? (random ? &*random : nullptr) : nullptr;
    if (m.needs == "states" && !has_states)
      why = "the truth has no object states (/truth/states: bouncing_shapes only)";
    else if (base == "fd_self" && !self)
      why = "no encoder given (--encoder, from dfbench encoder train)";
    else if (base == "fd_random" && !random)
      why = "frame sides must be multiples of 8 for the encoder";
    else if (enc) {
      const int64_t dim = enc->info().options.dim * (windowed ? 2 : 1);
      if (windowed && w < 2)
        why = "windows are off (fd_window < 2)";
      else if (windowed && L - context < w)
        why = "the rollouts have fewer than w = " + std::to_string(w) + " generated frames";
      else if (B < dim + 1)
        why = "it needs at least " + std::to_string(dim + 1) + " rollouts (features " + std::to_string(dim) +
              " + 1, for a full-rank covariance); the files have " + std::to_string(B);
      else if (windowed && real_windows < dim + 1)
        why = "the real clips give only " + std::to_string(real_windows) + " windows of " + std::to_string(w) +
              " frames; it needs " + std::to_string(dim + 1);
    }
    if (!why.empty()) unavailable[m.name] = why;
  }
  std::vector<std::string> chosen;
  if (o.metrics.empty()) {
    for (const MetricInfo& m : metric_catalogue())
      if (!unavailable.count(m.name)) chosen.push_back(m.name);
      else ev.notes.push_back(m.name + " left out: " + unavailable[m.name]);
  } else {
    std::vector<std::string> names;
    for (const MetricInfo& m : metric_catalogue()) names.push_back(m.name);
    for (const std::string& n : o.metrics) {
      if (std::find(names.begin(), names.end(), n) == names.end()) throw Error(unknown_name_message("metric", n, names));
      if (unavailable.count(n)) throw Error(head.path + ": cannot compute " + n + ": " + unavailable[n]);
      chosen.push_back(n);
    }
  }
  const std::set<std::string> want(chosen.begin(), chosen.end());

  // References from the real frames: Fréchet (frames and windows) and the grey histogram.
  FrameValueRequest request;
  for (const std::string& n : chosen)
    if (n.rfind("fd_", 0) != 0) request.metrics.insert(n);
  request.threads = std::max(1, at::get_num_threads());
  const std::vector<uint8_t> pool = frame_pool(real, o.real_max_frames, o.bootstrap.seed);
  const int64_t pooled = static_cast<int64_t>(pool.size()) / truth.frame_bytes();
  if (want.count("histogram_distance"))
    request.real_histogram = pooled_histogram(pool.data(), pooled, truth.height, truth.width, truth.channels);
  std::vector<FrechetMetric> frechet;
  for (const FrameEncoder* enc : {self ? &*self : nullptr, random ? &*random : nullptr}) {
    if (!enc) continue;
    FrechetMetric m;
    m.name = enc->info().name;
    m.encoder = enc;
    if (want.count(m.name)) {
      const torch::Tensor f = enc->features(pool.data(), pooled);
      m.frame_scale.emplace(f);
      m.frames.emplace(fit_gaussian((*m.frame_scale)(f), (o.real.empty() ? head.path + " /truth" : o.real) + ", " + m.name));
    }
    if (want.count(m.name + "_w")) {
      const int64_t first = o.real.empty() ? context : 0, per_clip = (real.length - first) / w;
      const torch::Tensor f = enc->features(real.frames.data(), real.count * real.length);
      std::vector<torch::Tensor> all;
      for (int64_t j = 0; j < per_clip; ++j) all.push_back(window_features(f, real.count, real.length, first + j * w, w));
      const torch::Tensor windows = torch::cat(all);
      m.window_scale.emplace(windows);
      m.windows.emplace(fit_gaussian((*m.window_scale)(windows), "real windows, " + m.name));
    }
    if (m.frames || m.windows) frechet.push_back(std::move(m));
  }

  // Every video set: the truth first (its curves give the real bands), then each method.
  const auto picks = bootstrap_picks(B, o.bootstrap);
  torch::Tensor pick_tensor = torch::empty({static_cast<int64_t>(picks.size()), B}, torch::kInt64);
  for (size_t r = 0; r < picks.size(); ++r)
    std::memcpy(pick_tensor[r].data_ptr<int64_t>(), picks[r].data(), static_cast<size_t>(B) * sizeof(int64_t));
  std::vector<std::string> sets = {kTruth};
  for (const auto& m : in.methods) sets.push_back(m.first);
  std::map<std::string, std::map<std::string, MetricCurves>> results;  // metric -> set -> curves
  std::map<std::string, std::pair<double, double>> bands;
  std::map<std::string, int64_t> seeds_of;  // set -> rollout files pooled (seeds)
  std::map<std::string, std::string> better_of;
  for (const MetricInfo& info : metric_catalogue()) better_of[info.name] = info.better;
  // metric -> per method its per-rollout values, for the pairwise comparisons (metrics with a direction)
  std::map<std::string, std::vector<MethodScores>> scores;
  Progress progress("evaluate", static_cast<int64_t>(sets.size()), 0, o.quiet ? 1e9 : 10.0);
  for (size_t s = 0; s < sets.size(); ++s) {
    const std::string& name = sets[s];
    const bool is_truth = s == 0;
    const std::vector<size_t> no_files;
    const std::vector<size_t>& files = is_truth ? no_files : in.methods[s - 1].second;
    const int64_t groups = is_truth ? 1 : static_cast<int64_t>(files.size());
    Clips video_holder, truth_holder;
    if (!is_truth) {
      std::vector<Clips> seeds;
      for (size_t f : files) seeds.push_back(read_method_frames(in.files[f], name));
      std::vector<const Clips*> parts;
      for (const Clips& c : seeds) parts.push_back(&c);
      video_holder = groups == 1 ? std::move(seeds.front()) : concat_clips(parts);
      if (groups > 1) truth_holder = concat_clips(std::vector<const Clips*>(static_cast<size_t>(groups), &truth));
    }
    const Clips& video = is_truth ? truth : video_holder;
    const Clips& against = groups > 1 ? truth_holder : truth;
    const auto set_picks = grouped_picks(picks, groups, o.bootstrap);
    torch::Tensor set_pick_tensor = pick_tensor;
    if (groups > 1) {
      set_pick_tensor = torch::empty({static_cast<int64_t>(set_picks.size()), groups * B}, torch::kInt64);
      for (size_t r = 0; r < set_picks.size(); ++r)
        std::memcpy(set_pick_tensor[r].data_ptr<int64_t>(), set_picks[r].data(),
                    static_cast<size_t>(groups * B) * sizeof(int64_t));
    }
    seeds_of[name] = groups;
    std::map<std::string, Curves> curves;
    FrameValueRequest r = request;
    if (is_truth)
      for (const char* n : {"ssim", "psnr", "mse"}) r.metrics.erase(n);
    for (auto& [metric, table] : frame_values(video, against, context, r)) {
      curves[metric] = mean_curves(table, set_picks);
      if (!is_truth && (better_of[metric] == "higher" || better_of[metric] == "lower"))
        scores[metric].push_back({name, groups, std::move(table)});
    }
    for (const FrechetMetric& m : frechet)
      frechet_curves(m, video, set_pick_tensor, context, w, (is_truth ? head.path + " /truth" : name), curves);
    for (auto& [metric, c] : curves) {
      if (is_truth) {
        MetricCurves t = summarize_resamples(c, windows, 1, 0, o.bootstrap.level, kind(metric));
        bands[metric] = real_band(t.curve, context);
      }
      const auto band = bands.count(metric) ? bands[metric] : std::pair<double, double>(1, 0);
      results[metric][name] = summarize_resamples(c, windows, band.first, band.second, o.bootstrap.level, kind(metric));
    }
    if (!o.quiet) progress.update(static_cast<int64_t>(s + 1), name);
  }
  if (!o.quiet) progress.finish();

  // metrics.json and curves.csv.
  nlohmann::json& j = ev.metrics;
  std::vector<std::string> samples = o.samples;
  j = {{"format", "dfbench metrics"},
       {"schema_version", 2},
       {"inputs",
        {{"samples", samples},
         {"real", o.real.empty() ? nlohmann::json("the truth frames of the rollout files") : nlohmann::json(o.real)},
         {"context", context},
         {"t_train", head.t_train},
         {"length", L},
         {"rollouts", B},
         {"frame", {truth.height, truth.width, truth.channels}},
         {"fd_window", w}}},
       {"bootstrap", {{"resamples", o.bootstrap.resamples}, {"level", o.bootstrap.level}, {"seed", o.bootstrap.seed}}},
       {"environment", environment_json("cpu")},
       {"methods", nlohmann::json::array()}};
  for (const auto& m : in.methods) j["methods"].push_back(m.first);
  j["seeds"] = nlohmann::json::object();  // per method: rollout files pooled (1 unless reproduce --seeds)
  for (const auto& m : in.methods) j["seeds"][m.first] = seeds_of[m.first];
  j["encoders"] = nlohmann::json::object();
  for (const FrechetMetric& m : frechet) j["encoders"][m.name] = m.encoder->info().to_json();
  j["metrics"] = nlohmann::json::object();
  std::vector<CurveRow> rows;
  for (const MetricInfo& info : metric_catalogue()) {
    if (!results.count(info.name)) continue;
    nlohmann::json mj = {{"version", info.version}, {"better", info.better}, {"unit", info.unit}, {"what", info.what}};
    if (info.name.rfind("fd_", 0) == 0) {
      const std::string enc = info.name.substr(0, info.name.size() - (info.name.back() == 'w' ? 2 : 0));
      mj["encoder"] = j["encoders"][enc]["hash"];
      if (info.name.back() == 'w') mj["window"] = w;
    }
    mj["real_band"] = bands.count(info.name) && bands[info.name].first <= bands[info.name].second
                          ? nlohmann::json({bands[info.name].first, bands[info.name].second})
                          : nlohmann::json(nullptr);
    for (const std::string& set : sets) {
      if (!results[info.name].count(set)) continue;
      const MetricCurves& mc = results[info.name][set];
      mj["methods"][set] = to_json(mc.summary);
      for (int64_t t = 0; t < static_cast<int64_t>(mc.curve.size()); ++t) {
        const Interval& v = mc.curve[t];
        if (!std::isfinite(v.mean)) continue;
        rows.push_back({set, info.name, t, v.mean, v.lo, v.hi});
      }
    }
    j["metrics"][info.name] = mj;
  }
  ev.curves_csv = curves_csv_text(rows);
  // P(A better than B), means and IQMs per window, seeds kept as strata (docs/metrics.md).
  j["comparisons"] = nlohmann::json::object();
  for (const auto& [metric, methods] : scores)
    if (methods.size() >= 1)
      j["comparisons"][metric] = compare_methods(methods, B, windows, better_of[metric] == "higher", o.bootstrap);
  // Each method's training compute and curves, from the folders that trained its files.
  if (!o.train_runs.empty()) {
    std::vector<std::pair<std::string, std::vector<std::string>>> method_runs;
    for (const auto& [method, files] : in.methods) {
      method_runs.push_back({method, {}});
      for (size_t f : files) method_runs.back().second.push_back(o.train_runs[f]);
    }
    j["training"] = training_summary(method_runs);
  }
  if (!truth.visible.empty()) j["memory"] = memory_section(in.files, o.bootstrap);
  j["skipped"] = nlohmann::json::array();
  for (const auto& [name, why] : unavailable)
    if (!want.count(name)) j["skipped"].push_back({{"metric", name}, {"reason", why}});
  return ev;
}

void write_evaluation(const Evaluation& ev, const std::string& out_dir) {
  make_dirs(out_dir);
  write_file_atomic(out_dir + "/curves.csv", ev.curves_csv);
  write_file_atomic(out_dir + "/metrics.json", ev.metrics.dump(2) + "\n");
}

std::string format_evaluation(const Evaluation& ev) {
  const nlohmann::json& j = ev.metrics;
  std::string out;
  char line[256];
  for (const char* metric : {"oracle_valid", "ssim", "psnr", "fd_self", "fd_self_w", "fd_random", "fd_random_w", "sharpness"}) {
    if (!j["metrics"].contains(metric)) continue;
    const nlohmann::json& m = j["metrics"][metric];
    std::string last;
    for (auto& [k, v] : m["methods"].begin().value()["at"].items()) last = k;
    std::snprintf(line, sizeof line, "%s (%s is better)\n  %-24s %14s %14s %9s\n", metric, m["better"].get<std::string>().c_str(),
                  "method", "within T_train", last.empty() ? "" : ("at " + last + "x").c_str(), "horizon");
    out += line;
    for (auto& [set, s] : m["methods"].items()) {
      auto value = [](const nlohmann::json& v) { return v.is_null() || v["mean"].is_null() ? std::string("-") : number(v["mean"].get<double>()); };
      const std::string horizon = s["stable_horizon"].is_null() ? "-" : (s["stable_horizon"]["never_left"].get<bool>() ? "never" : value(s["stable_horizon"]));
      std::snprintf(line, sizeof line, "  %-24s %14s %14s %9s\n", set.c_str(), value(s["within_t_train"]).c_str(),
                    last.empty() ? "" : value(s["at"][last]).c_str(), horizon.c_str());
      out += line;
    }
  }
  if (j.contains("memory") && j["memory"].is_object()) out += format_memory(j["memory"]);
  for (const std::string& n : ev.notes) out += "note: " + n + "\n";
  return out;
}

}  // namespace dfb

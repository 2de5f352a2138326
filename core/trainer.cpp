#include "core/trainer.h"
#include "core/training_loss.h"

#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/checkpoint.h"
#include "core/compat.h"
#include "core/error.h"
#include "core/files.h"
#include "core/json_reader.h"
#include "core/optim.h"
#include "core/progress.h"
#include "core/run_parts.h"
#include "datasets/clip_stream.h"

namespace dfb {
namespace fs = std::filesystem;

double learning_rate(const TrainConfig& t, int64_t step) {
  if (step < t.warmup) return t.lr * static_cast<double>(step + 1) / static_cast<double>(t.warmup);
  const double span = static_cast<double>(std::max<int64_t>(1, t.steps - t.warmup));
  const double progress = std::min(1.0, static_cast<double>(step - t.warmup) / span);
  const double cosine = 0.5 * (1 + std::cos(M_PI * progress));
  return t.lr * (t.min_lr_ratio + (1 - t.min_lr_ratio) * cosine);
}

RunConfig load_run_config(const std::string& run_dir) {
  const std::string path = (fs::path(run_dir) / "config.json").string();
  if (!fs::exists(path))
    throw Error("no run in '" + run_dir + "' (no config.json); train one with: dfbench train --config smoke --out " +
                run_dir);
  return parse_run_config(load_json_file(path), path);
}

namespace {

// Keeps the log lines of steps <= `step` (a resumed run rewrites what came after).
void truncate_log(const std::string& path, int64_t step) {
  if (!fs::exists(path)) return;
  std::ifstream in(path);
  std::string line, kept;
  while (std::getline(in, line)) {
    try {
      nlohmann::json j = nlohmann::json::parse(line);
      if (j.value("step", int64_t{0}) <= step) kept += line + "\n";
    } catch (const nlohmann::json::exception&) {  // a line cut short by a kill: drop it
    }
  }
  write_file_atomic(path, kept);
}

// The windows of a batch: clip index and start offset drawn from `gen` (the same draws
// whether the data reader or the training step makes them).
std::vector<ClipWindow> draw_windows(int64_t n, int64_t length, int64_t batch, int64_t window, at::Generator& gen) {
  torch::Tensor idx = torch::randint(0, n, {batch}, gen, torch::kLong);
  torch::Tensor off = torch::randint(0, length - window + 1, {batch}, gen, torch::kLong);
  std::vector<ClipWindow> w(static_cast<size_t>(batch));
  for (int64_t b = 0; b < batch; ++b) w[b] = {idx[b].item<int64_t>(), off[b].item<int64_t>()};
  return w;
}

// uint8 [B, T, H, W, C] → float [B, T, C, H, W] in [−1, 1].
torch::Tensor batch_tensor(std::vector<uint8_t>& bytes, int64_t batch, int64_t window, const ClipSource& s) {
  return torch::from_blob(bytes.data(), {batch, window, s.height, s.width, s.channels}, torch::kUInt8)
      .permute({0, 1, 4, 2, 3})
      .to(torch::kFloat32)
      .div(127.5)
      .sub(1.0);
}

}  // namespace

torch::Tensor training_loss(BackboneImpl& model, const Method& method, const Diffusion& diffusion,
                            const torch::Tensor& x0, at::Generator& gen) {
  const torch::Device device = x0.device();
  TrainLevels tl = method.training_levels(x0.size(0), x0.size(1), diffusion.levels(), gen);
  torch::Tensor eps = diffusion.noise_like(x0, gen);
  torch::Tensor levels = tl.levels.to(device);
  torch::Tensor xt = diffusion.q_sample(x0, levels, eps);
  torch::Tensor pred = model.forward(xt, levels.to(torch::kFloat32) / static_cast<double>(diffusion.levels()));
  return diffusion.loss(pred, diffusion.target(x0, eps, levels), levels, tl.loss_mask.to(device));
}

TrainSummary train_run(const RunConfig& config, const std::string& run_dir, const TrainRunOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  const TrainConfig& tc = config.train;
  const torch::Device device = parse_device(config.device);
  make_dirs(run_dir);
  make_dirs((fs::path(run_dir) / "checkpoints").string());
  const std::string config_path = (fs::path(run_dir) / "config.json").string();
  const std::string log_path = (fs::path(run_dir) / "train_log.jsonl").string();
  const std::string latest = latest_checkpoint(run_dir);
  if (!options.resume && !latest.empty())
    throw Error("'" + run_dir + "' already holds a training run (" + latest +
                "); pass --resume to continue it, or choose another --out");
  if (options.resume) remove_stale_temporaries(run_dir);  // what a killed run left half-written
  if (options.resume && latest.empty() && !fs::exists(config_path))
    throw Error("nothing to resume in '" + run_dir + "' (no checkpoint); start it without --resume");
  const std::string config_text = config.resolved.dump(2) + "\n";
  if (!options.resume || !fs::exists(config_path)) write_file_atomic(config_path, config_text);
  write_file_atomic((fs::path(run_dir) / "env.json").string(), environment_json(config.device).dump(2) + "\n");

  // Data: clips read by index (a dataset file is streamed, never loaded whole).
  const std::unique_ptr<ClipSource> source = open_train_source(config);
  if (source->length < tc.frames)
    throw Error("training clips have " + std::to_string(source->length) + " frames; train.frames is " +
                std::to_string(tc.frames));

  const Diffusion diffusion(config.diffusion);
  std::unique_ptr<Method> method = build_method(config);
  torch::manual_seed(config.seed);  // weight initialisation
  Backbone model = build_backbone(config);
  Backbone ema = build_backbone(config);
  model->to(device);
  ema->to(device);
  NamedTensors params = named_tensors(*model), ema_params = named_tensors(*ema);
  {
    torch::NoGradGuard g;
    for (size_t i = 0; i < params.size(); ++i) ema_params[i].second.copy_(params[i].second);
  }
  AdamW adam(named_tensors(*model), AdamWOptions{tc.beta1, tc.beta2, 1e-8, tc.weight_decay});

  int64_t step = 0;
  TrainSummary summary;
  if (options.resume && !latest.empty()) {
    CheckpointData ck = read_checkpoint(latest);
    if (ck.config_json != config_text)
      throw Error(latest + " was written by a different config than " + config_path +
                  "; resume with the run's own config (dfbench train --resume --out " + run_dir + ")");
    load_named(params, ck.tensors, "model/", latest + ": model weights");
    load_named(ema_params, ck.tensors, "ema/", latest + ": EMA weights");
    std::map<std::string, torch::Tensor> optim;
    for (const auto& [k, v] : ck.tensors)
      if (k.rfind("optim/", 0) == 0) optim[k.substr(6)] = v;
    adam.load_state(optim, ck.step);
    step = ck.step;
    summary.checkpoint = latest;
  }
  truncate_log(log_path, step);
  summary.start_step = step;
  if (step >= tc.steps) {
    summary.end_step = step;
    return summary;
  }

  std::ofstream log(log_path, std::ios::app);
  if (!log) throw Error("cannot append to " + log_path);
  if (!options.quiet) {
    int64_t count = 0;
    for (const auto& p : model->parameters()) count += p.numel();
    std::fprintf(stderr, "train %s: %s %s, %lld parameters, %lld steps of %lld clips x %lld frames, %s, %d threads%s\n",
                 config.name.c_str(), method->name().c_str(), config.backbone.value("name", std::string("?")).c_str(),
                 static_cast<long long>(count), static_cast<long long>(tc.steps), static_cast<long long>(tc.batch),
                 static_cast<long long>(tc.frames), config.device.c_str(), at::get_num_threads(),
                 step > 0 ? (", resuming at step " + std::to_string(step)).c_str() : "");
  }
  Progress progress("train " + config.name, tc.steps, step);
  auto save = [&](int64_t done) {
    const std::string path = checkpoint_path(run_dir, done);
    write_checkpoint(path, done, config.seed, config_text,
                     {{"model", params}, {"ema", ema_params}, {"optim", adam.state()}});
    prune_checkpoints(run_dir, tc.keep_checkpoints);
    summary.checkpoint = path;
  };

  double interval_loss = 0;
  int64_t interval_n = 0;
  auto interval_start = std::chrono::steady_clock::now();
  const int64_t stop_at = options.stop_after >= 0 ? std::min(tc.steps, step + options.stop_after) : tc.steps;
  model->train();
  // The batches of the coming steps are read on a background thread while this one computes.
  BatchPrefetcher data(
      *source, tc.frames,
      [&](int64_t s) {
        at::Generator g = make_generator(step_seed(config.seed, s));
        return draw_windows(source->count, source->length, tc.batch, tc.frames, g);
      },
      step, stop_at);
  for (; step < stop_at; ++step) {
    at::Generator gen = make_generator(step_seed(config.seed, step));
    draw_windows(source->count, source->length, tc.batch, tc.frames, gen);  // `gen` continues past the reader's draws
    std::vector<uint8_t> bytes = data.take(step);
    torch::Tensor x0 = batch_tensor(bytes, tc.batch, tc.frames, *source).to(device);
    torch::Tensor loss = training_loss(*model, *method, diffusion, x0, gen);
    const double loss_value = loss.item<double>();
    if (!std::isfinite(loss_value))
      throw Error("training diverged: the loss is " + std::to_string(loss_value) + " at step " + std::to_string(step) +
                  (summary.checkpoint.empty() ? std::string() : "; the last good checkpoint is " + summary.checkpoint) +
                  " — lower train.lr or raise train.warmup");
    adam.zero_grad();
    loss.backward();
    const double grad_norm = clip_grad_norm(params, tc.grad_clip);
    const double lr = learning_rate(tc, step);
    adam.step(lr);
    ema_update(ema_params, params, tc.ema_decay, step);

    interval_loss += loss_value;
    ++interval_n;
    const int64_t done = step + 1;
    if (done % tc.log_every == 0 || done == stop_at) {
      const double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - interval_start).count();
      summary.last_loss = interval_loss / interval_n;
      log << nlohmann::json{{"step", done}, {"loss", summary.last_loss}, {"lr", lr}, {"grad_norm", grad_norm},
                            {"steps_per_second", interval_n / std::max(secs, 1e-9)}}
                 .dump()
          << "\n";
      log.flush();
      interval_loss = 0;
      interval_n = 0;
      interval_start = std::chrono::steady_clock::now();
    }
    if (done % tc.checkpoint_every == 0 || done == stop_at) save(done);
    if (!options.quiet) {
      char status[64];
      std::snprintf(status, sizeof status, "loss %.4f", loss_value);
      progress.update(done, status);
    }
  }
  summary.end_step = step;
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  summary.data_wait_seconds = data.waited_seconds();
  if (!options.quiet) {
    char status[96];
    std::snprintf(status, sizeof status, "loss %.6f, waited for data %.1f%% of the time", summary.last_loss,
                  100.0 * summary.data_wait_seconds / std::max(summary.seconds, 1e-9));
    progress.finish(status);
  }
  return summary;
}

}  // namespace dfb

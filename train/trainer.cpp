#include "train/trainer.h"
#include "train/training_loss.h"

#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "base/error.h"
#include "base/files.h"
#include "base/progress.h"
#include "base/rng.h"
#include "base/stop_signal.h"
#include "formats/clip_stream.h"
#include "tensor/checkpoint.h"
#include "tensor/compat.h"
#include "tensor/frames.h"
#include "tensor/op_profile.h"
#include "train/optim.h"

namespace dfb {
namespace fs = std::filesystem;

namespace {

// Keeps the log lines of steps <= `step` (a resumed run rewrites what came after); none at step 0,
// where the run starts over and writes its header again.
void truncate_log(const std::string& path, int64_t step) {
  if (!fs::exists(path)) return;
  std::ifstream in(path);
  std::string line, kept;
  while (std::getline(in, line)) {
    try {
      nlohmann::json j = nlohmann::json::parse(line);
      if (step > 0 && j.value("step", int64_t{0}) <= step) kept += line + "\n";
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

}  // namespace

TrainSummary train(const TrainInputs& in, const std::string& run_dir, const TrainRunOptions& options) {
  // From the start: a signal during the setup stops after the first step.
  std::optional<StopSignalScope> stop_scope;
  if (options.stop_on_signal) stop_scope.emplace();
  const auto t0 = std::chrono::steady_clock::now();
  const TrainConfig& tc = in.train;
  const torch::Device device = parse_device(in.device);
  make_dirs(run_dir);
  make_dirs((fs::path(run_dir) / "checkpoints").string());
  const std::string config_path = (fs::path(run_dir) / "config.json").string();
  const std::string log_path = (fs::path(run_dir) / "train_log.jsonl").string();
  std::string latest = latest_checkpoint(run_dir);
  CheckpointData ck;  // the checkpoint a resume starts from, read once
  if (options.resume && !latest.empty()) {
    std::string note;
    latest = latest_intact_checkpoint(run_dir, &note, &ck);
    if (!note.empty()) std::fprintf(stderr, "train: %s\n", note.c_str());
  }
  if (!options.resume && !latest.empty())
    throw Error("'" + run_dir + "' already holds a training run (" + latest +
                "); pass --resume to continue it, or choose another --out");
  if (options.resume) remove_stale_temporaries(run_dir);  // what a killed run left half-written
  if (options.resume && latest.empty() && !fs::exists(config_path))
    throw Error("nothing to resume in '" + run_dir + "' (no checkpoint); start it without --resume");
  const std::string& config_text = in.config_text;
  // Data parallel: every rank has made the checks above before rank 0 writes anything.
  const int64_t rank = options.world ? options.world->rank() : 0, ranks = options.world ? options.world->size() : 1;
  const bool writer = rank == 0;
  if (tc.batch % ranks != 0)
    throw Error("train.batch " + std::to_string(tc.batch) + " does not divide among " + std::to_string(ranks) +
                " processes; make it a multiple of the world size");
  const int64_t share = tc.batch / ranks;
  if (options.world) options.world->barrier();
  if (writer && (!options.resume || !fs::exists(config_path))) write_file_atomic(config_path, config_text);
  if (writer) write_file_atomic((fs::path(run_dir) / "env.json").string(), in.environment_json);

  // Data: clips read by index (a dataset file is streamed, never loaded whole).
  const std::unique_ptr<ClipSource> source = in.open_data();
  if (source->length < tc.frames)
    throw Error("training clips have " + std::to_string(source->length) + " frames; train.frames is " +
                std::to_string(tc.frames));

  const Diffusion diffusion(in.diffusion);
  const Method& method = *in.method;
  torch::manual_seed(in.seed);  // weight initialisation
  Backbone model = in.make_backbone();
  Backbone ema = in.make_backbone();
  model->to(device);
  ema->to(device);
  NamedTensors params = named_tensors(*model), ema_params = named_tensors(*ema);
  FlatParameters flat(params), ema_flat(ema_params, /*grads=*/false);
  {
    torch::NoGradGuard g;
    ema_flat.values().copy_(flat.values());
  }
  AdamW adam(flat, AdamWOptions{tc.beta1, tc.beta2, 1e-8, tc.weight_decay});

  int64_t step = 0;
  TrainSummary summary;
  if (options.resume && !latest.empty()) {
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
    ck = CheckpointData();  // its tensors are copied in: not held through the training
  }
  if (options.world) {  // every rank resumed from the same step (a shared file system may differ)
    const double s = static_cast<double>(step);
    torch::Tensor t = torch::tensor({s, s * s}, torch::TensorOptions().dtype(torch::kFloat64)).to(options.world->device());
    options.world->all_reduce_sum(t);
    t = t.to(torch::kCPU);
    if (t[0].item<double>() != s * ranks || t[1].item<double>() != s * s * ranks)
      throw Error("the " + std::to_string(ranks) + " processes resumed from different steps (this one from " +
                  std::to_string(step) + "); do they all see the same run folder '" + run_dir + "'?");
  }
  if (writer) truncate_log(log_path, step);
  summary.start_step = step;
  if (step >= tc.steps) {
    summary.end_step = step;
    return summary;
  }

  std::ofstream log;  // rank 0's
  if (writer) log.open(log_path, std::ios::app);
  if (writer && !log) throw Error("cannot append to " + log_path);
  int64_t count = 0;
  for (const auto& p : model->parameters()) count += p.numel();
  if (step == 0 && writer)
    log << nlohmann::json{{"step", 0}, {"batch", tc.batch}, {"frames", tc.frames}, {"parameters", count},
                          {"clips", source->count}}
               .dump()
        << "\n";
  const bool quiet = options.quiet || !writer;
  if (!quiet) {
    std::fprintf(stderr, "train %s: %s %s, %lld parameters, %lld steps of %lld clips x %lld frames, %s %s, %d threads%s\n",
                 in.name.c_str(), method.name().c_str(), in.backbone_name.c_str(),
                 static_cast<long long>(count), static_cast<long long>(tc.steps), static_cast<long long>(tc.batch),
                 static_cast<long long>(tc.frames), in.device.c_str(), precision_name(tc.precision), at::get_num_threads(),
                 step > 0 ? (", resuming at step " + std::to_string(step)).c_str() : "");
    if (options.world)
      std::fprintf(stderr, "train %s: rank 0 of %lld processes (%s), %lld clips each per step\n", in.name.c_str(),
                   static_cast<long long>(ranks), options.world->backend().c_str(), static_cast<long long>(share));
  }
  Progress progress("train " + in.name, tc.steps, step);
  auto save = [&](int64_t done) {
    const std::string path = checkpoint_path(run_dir, done);
    if (!writer) {  // rank 0 writes it
      summary.checkpoint = path;
      return;
    }
    write_checkpoint(path, done, in.seed, config_text,
                     {{"model", params}, {"ema", ema_params}, {"optim", adam.state()}});
    prune_checkpoints(run_dir, tc.keep_checkpoints);
    summary.checkpoint = path;
  };

  double interval_loss = 0, step_flops = 0;
  int64_t interval_n = 0;
  auto interval_start = std::chrono::steady_clock::now();
  const int64_t stop_at = options.stop_after >= 0 ? std::min(tc.steps, step + options.stop_after) : tc.steps;
  model->train();
  // The batches of the coming steps are read on a background thread while this one computes.
  BatchPrefetcher data(
      *source, tc.frames,
      [&](int64_t s) {  // the global batch's windows; this rank reads its share
        at::Generator g = make_generator(step_seed(in.seed, s));
        std::vector<ClipWindow> all = draw_windows(source->count, source->length, tc.batch, tc.frames, g);
        return std::vector<ClipWindow>(all.begin() + rank * share, all.begin() + (rank + 1) * share);
      },
      step, stop_at);
  for (; step < stop_at; ++step) {
    at::Generator gen = make_generator(step_seed(in.seed, step));
    draw_windows(source->count, source->length, tc.batch, tc.frames, gen);  // `gen` continues past the reader's draws
    std::vector<uint8_t> bytes = data.take(step);
    torch::Tensor x0 = frames_to_tensor(bytes.data(), share, tc.frames, source->height, source->width, source->channels).to(device);
    torch::Tensor loss;
    auto forward_backward = [&] {
      loss = training_loss(*model, method, diffusion, x0, gen, tc.precision,
                           static_cast<double>(step) / static_cast<double>(tc.steps),
                           options.world ? BatchShare{tc.batch, rank * share} : BatchShare{});
      adam.zero_grad();
      loss.backward();
    };
    // The first step of each call is counted (its operators' FLOPs) for the training compute.
    if (step == summary.start_step)
      step_flops = profile_ops(forward_backward).flops;
    else
      forward_backward();
    double loss_value = 0;
    bool stopping = stop_scope && stop_requested();
    if (options.world) {  // the shares' gradients and losses sum to the whole batch's; all stop together
      torch::Tensor grads = flat.grads();
      options.world->all_reduce_sum(grads);
      torch::Tensor info = torch::stack({loss.detach().to(torch::kCPU, torch::kFloat32).reshape({}),
                                         torch::tensor(stopping ? 1.0f : 0.0f)})
                               .to(options.world->device());
      options.world->all_reduce_sum(info);
      info = info.to(torch::kCPU);
      loss_value = info[0].item<double>();
      stopping = info[1].item<double>() > 0;
    } else {
      loss_value = loss.item<double>();
    }
    if (!std::isfinite(loss_value))
      throw Error("training diverged: the loss is " + std::to_string(loss_value) + " at step " + std::to_string(step) +
                  (summary.checkpoint.empty() ? std::string() : "; the last good checkpoint is " + summary.checkpoint) +
                  " — lower train.lr or raise train.warmup");
    const torch::Tensor grad_norm = clip_grad_norm(flat, tc.grad_clip);
    const double lr = learning_rate(tc, step);
    adam.step(lr);
    ema_update(ema_flat, flat, tc.ema_decay, step);

    interval_loss += loss_value;
    ++interval_n;
    const int64_t done = step + 1;
    if (done % tc.log_every == 0 || done == stop_at) {
      const double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - interval_start).count();
      summary.last_loss = interval_loss / interval_n;
      nlohmann::json line{{"step", done}, {"loss", summary.last_loss}, {"lr", lr}, {"grad_norm", grad_norm.item<double>()},
                          {"steps_per_second", interval_n / std::max(secs, 1e-9)}};
      if (step_flops > 0) line["step_flops"] = step_flops;
      step_flops = 0;
      if (writer) {
        log << line.dump() << "\n";
        log.flush();
      }
      interval_loss = 0;
      interval_n = 0;
      interval_start = std::chrono::steady_clock::now();
    }
    if (writer && in.validate && tc.validate_every > 0 && (done % tc.validate_every == 0 || done == tc.steps)) {
      const auto v0 = std::chrono::steady_clock::now();
      const std::map<std::string, double> scores = in.validate(ema);
      nlohmann::json values = nlohmann::json::object();
      for (const auto& [name, value] : scores) values[name] = value;  // NaN is written as null
      log << nlohmann::json{{"step", done}, {"validation", values},
                            {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - v0).count()}}
                 .dump()
          << "\n";
      log.flush();
      interval_start += std::chrono::steady_clock::now() - v0;  // the step rate leaves the validation out
    }
    if (done % tc.checkpoint_every == 0 || done == stop_at || stopping) save(done);
    if (stopping) {
      consume_stop_request();
      const std::string why = stop_signal_name();
      throw Stopped("training stopped by " + (why.empty() ? std::string("another process's signal") : why) + " after step " + std::to_string(done) +
                    ", checkpoint " + summary.checkpoint + "; running the same command again resumes");
    }
    if (!quiet) {
      char status[64];
      std::snprintf(status, sizeof status, "loss %.4f", loss_value);
      progress.update(done, status);
    }
  }
  summary.end_step = step;
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  summary.data_wait_seconds = data.waited_seconds();
  if (!quiet) {
    char status[96];
    std::snprintf(status, sizeof status, "loss %.6f, waited for data %.1f%% of the time", summary.last_loss,
                  100.0 * summary.data_wait_seconds / std::max(summary.seconds, 1e-9));
    progress.finish(status);
  }
  return summary;
}

}  // namespace dfb

#include "pipeline/sampler.h"

#include <torch/torch.h>

#include "tensor/checkpoint.h"
#include "tensor/compat.h"
#include "rollout/denoiser.h"
#include "base/error.h"
#include "formats/h5.h"
#include "train/optim.h"
#include "base/progress.h"
#include "base/rng.h"
#include "pipeline/run_parts.h"
#include "formats/dataset_file.h"

namespace dfb {

SampleRequest default_request(const RunConfig& config) {
  SampleRequest r;
  r.context = config.sample.context;
  r.length = config.sample.length;
  r.count = config.sample.count;
  r.batch = config.sample.batch;
  r.steps = config.sample.steps;
  r.eta = config.sample.eta;
  r.sink = config.sample.sink;
  r.precision = config.sample.precision;
  r.seed = config.seed;
  return r;
}

Rollouts sample_run(const RunConfig& config, const std::string& run_dir, const SampleRequest& req) {
  if (req.context < 1 || req.length <= req.context || req.count < 1 || req.batch < 1)
    throw Error("sample needs context >= 1, length > context, count >= 1 and batch >= 1");
  const std::string ckpt_path = req.checkpoint.empty() ? latest_checkpoint(run_dir) : req.checkpoint;
  if (ckpt_path.empty())
    throw Error("no checkpoint in '" + run_dir + "/checkpoints'; train first: dfbench train --config ... --out " + run_dir);
  CheckpointData ck = read_checkpoint(ckpt_path);
  const torch::Device device = parse_device(config.device);
  const Diffusion diffusion(config.diffusion);
  std::unique_ptr<Method> method = build_method(config);
  Backbone model = build_backbone(config);
  load_named(named_tensors(*model), ck.tensors, "ema/", ckpt_path + ": EMA weights");
  model->to(device);
  model->eval();
  Denoiser denoiser(model, diffusion);
  denoiser.set_precision(req.precision);

  Rollouts out;
  out.method = method->name();
  out.context = req.context;
  out.t_train = config.train.frames;
  out.checkpoint_step = ck.step;
  out.steps = req.steps;
  out.eta = req.eta;
  nlohmann::json resolved = config.resolved;
  if (resolved.contains("sample")) resolved["sample"]["precision"] = precision_name(req.precision);  // as made
  out.config_json = resolved.dump();
  out.truth = req.clips_file.empty() ? load_eval_clips(config, req.count, req.length)
                                     : load_clips_file(config, req.clips_file, req.count, req.length);
  torch::Tensor truth = clips_to_tensor(out.truth);  // [N, L, C, H, W]
  out.generated = out.truth;
  out.generated.objects = 0;
  out.generated.states.clear();
  out.generated.colors.clear();
  out.generated.visible.clear();
  out.generated.source = "dfbench " + out.method;
  out.generated.frames.clear();

  const int64_t horizon = req.length - req.context;
  RolloutOptions ro;
  ro.steps = req.steps;
  ro.eta = req.eta;
  ro.sink = req.sink;
  Progress progress("sample " + out.method + " (frames)", req.count * horizon);
  int64_t first = 0, n = 0;  // the batch in flight
  if (!req.quiet) ro.on_frames = [&](int64_t made) { progress.update(first * horizon + n * made); };
  torch::InferenceMode inference;
  for (int64_t i = 0; first < req.count; first += req.batch, ++i) {
    n = std::min(req.batch, req.count - first);
    at::Generator gen = make_generator(step_seed(req.seed, i));
    torch::Tensor context = truth.slice(0, first, first + n).slice(1, 0, req.context).to(device);
    torch::Tensor video = method->rollout(denoiser, context, horizon, ro, gen);
    if (video.size(1) != req.length)
      throw Error("method '" + out.method + "' returned " + std::to_string(video.size(1)) + " frames, expected " +
                  std::to_string(req.length));
    std::vector<uint8_t> bytes = tensor_to_frames(video);
    out.generated.frames.insert(out.generated.frames.end(), bytes.begin(), bytes.end());
  }
  if (!req.quiet) progress.finish();
  out.backbone_calls = denoiser.calls();
  return out;
}

}  // namespace dfb

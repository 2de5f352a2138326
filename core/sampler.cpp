#include "core/sampler.h"

#include <torch/torch.h>

#include "core/checkpoint.h"
#include "core/compat.h"
#include "core/denoiser.h"
#include "core/error.h"
#include "core/h5.h"
#include "core/optim.h"
#include "core/progress.h"
#include "core/run_parts.h"
#include "datasets/dataset_file.h"

namespace dfb {

SampleRequest default_request(const RunConfig& config) {
  SampleRequest r;
  r.context = config.sample.context;
  r.length = config.sample.length;
  r.count = config.sample.count;
  r.batch = config.sample.batch;
  r.steps = config.sample.steps;
  r.eta = config.sample.eta;
  r.seed = config.seed;
  return r;
}

SampleResult sample_run(const RunConfig& config, const std::string& run_dir, const SampleRequest& req) {
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

  SampleResult out;
  out.method = method->name();
  out.context = req.context;
  out.t_train = config.train.frames;
  out.checkpoint_step = ck.step;
  out.steps = req.steps;
  out.eta = req.eta;
  out.config_json = config.resolved.dump();
  out.truth = load_eval_clips(config, req.count, req.length);
  torch::Tensor truth = clips_to_tensor(out.truth);  // [N, L, C, H, W]
  out.generated = out.truth;
  out.generated.objects = 0;
  out.generated.states.clear();
  out.generated.colors.clear();
  out.generated.source = "dfbench " + out.method;
  out.generated.frames.clear();

  const int64_t horizon = req.length - req.context;
  RolloutOptions ro{req.steps, req.eta};
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

namespace {
void write_frames(h5::Writer& w, const std::string& name, const Clips& c) {
  w.write(name, h5::DType::kU8, c.frames.data(), {c.count, c.length, c.height, c.width, c.channels},
          {1, c.length, c.height, c.width, c.channels}, 4);
}
}  // namespace

void write_rollout_file(const std::string& path, const SampleResult& r) {
  h5::Writer w(path);
  write_frames(w, r.method + "/frames", r.generated);
  write_frames(w, "truth/frames", r.truth);
  if (r.truth.objects > 0) {
    w.write("truth/states", h5::DType::kF32, r.truth.states.data(), {r.truth.count, r.truth.length, r.truth.objects, kStateDim});
    w.write("truth/colors", h5::DType::kU8, r.truth.colors.data(), {r.truth.count, r.truth.objects, 3});
  }
  w.attr("/", "format", std::string("dfbench rollouts"));
  w.attr("/", "schema_version", kRolloutSchemaVersion);
  w.attr("/", "context", r.context);
  w.attr("/", "t_train", r.t_train);
  w.attr(r.method, "checkpoint_step", r.checkpoint_step);
  w.attr(r.method, "steps", r.steps);
  w.attr(r.method, "eta", r.eta);
  if (!r.config_json.empty()) w.attr(r.method, "config", r.config_json);
  if (!r.stage_key.empty()) w.attr(r.method, "stage_key", r.stage_key);
  w.attr("truth", "source", r.truth.source);
  w.commit();
}

namespace {
Clips read_frames(const h5::Reader& f, const std::string& name) {
  Clips c = frames_layout(f, name);
  c.frames = f.read_u8(name);
  return c;
}
}  // namespace

SampleResult read_rollout_file(const std::string& path) {
  h5::Reader f(path);
  if (!f.has_attr("/", "format") || f.attr_string("/", "format") != "dfbench rollouts")
    throw Error(path + ": not a dfbench rollout file (no format = \"dfbench rollouts\" attribute)");
  SampleResult r;
  r.context = f.attr_int("/", "context");
  r.t_train = f.has_attr("/", "t_train") ? f.attr_int("/", "t_train") : 0;
  for (const std::string& g : f.list("/"))
    if (g != "truth") r.method = g;
  if (r.method.empty()) throw Error(path + ": holds no method group");
  r.generated = read_frames(f, r.method + "/frames");
  if (f.has_attr(r.method, "config")) r.config_json = f.attr_string(r.method, "config");
  if (f.has_attr(r.method, "stage_key")) r.stage_key = f.attr_string(r.method, "stage_key");
  r.truth = read_frames(f, "truth/frames");
  if (f.is_dataset("truth/states")) {
    std::vector<int64_t> s = f.shape("truth/states");
    if (s.size() != 4 || s[0] != r.truth.count || s[1] != r.truth.length || s[3] != kStateDim)
      throw Error(path + ": /truth/states does not match /truth/frames");
    r.truth.objects = s[2];
    r.truth.states = f.read_f32("truth/states");
  }
  if (r.generated.count != r.truth.count || r.generated.length != r.truth.length ||
      r.generated.height != r.truth.height || r.generated.channels != r.truth.channels)
    throw Error(path + ": /" + r.method + "/frames and /truth/frames differ in shape");
  return r;
}

}  // namespace dfb

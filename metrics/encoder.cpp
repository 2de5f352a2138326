// Frame encoders for the Fréchet distances: the network, its content hash, HDF5 files,
// and autoencoder training (see encoder.h).
#include "metrics/encoder.h"

#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <cstring>

#include "tensor/compat.h"
#include "base/error.h"
#include "base/hash.h"
#include "formats/h5.h"
#include "train/optim.h"
#include "base/progress.h"

namespace dfb {

namespace {

constexpr const char* kFormat = "dfbench frame encoder";

void check_size(int64_t height, int64_t width, int64_t channels, const EncoderOptions& o) {
  if (height < 8 || width < 8 || height % 8 != 0 || width % 8 != 0)
    throw Error("frame encoder: frames must be at least 8x8 with sides that are multiples of 8, got " +
                std::to_string(height) + "x" + std::to_string(width));
  if (channels != 1 && channels != 3)
    throw Error("frame encoder: frames must have 1 or 3 channels, got " + std::to_string(channels));
  if (o.dim < 1 || o.base < 1)
    throw Error("frame encoder: dim and base must be >= 1, got " + std::to_string(o.dim) + " and " +
                std::to_string(o.base));
}

torch::nn::Conv2dOptions down(int64_t in, int64_t out) { return torch::nn::Conv2dOptions(in, out, 4).stride(2).padding(1); }
torch::nn::ConvTranspose2dOptions up(int64_t in, int64_t out) {
  return torch::nn::ConvTranspose2dOptions(in, out, 4).stride(2).padding(1);
}

// uint8 [n, H, W, C] → float [n, C, H, W] in [−½, ½].
torch::Tensor to_input(const uint8_t* frames, int64_t n, int64_t h, int64_t w, int64_t c) {
  const torch::Tensor raw = torch::from_blob(const_cast<uint8_t*>(frames), {n, h, w, c}, torch::kUInt8);
  return raw.permute({0, 3, 1, 2}).to(torch::kFloat32).div(255.0).sub(0.5).contiguous();
}

}  // namespace

struct FrameEncoder::Net {
  torch::nn::Sequential encoder{nullptr}, decoder{nullptr};
  int64_t side_h = 0, side_w = 0, top = 0;  // the lowest resolution and its channels

  Net(int64_t h, int64_t w, int64_t c, const EncoderOptions& o, bool with_decoder, uint64_t seed) {
    side_h = h / 8, side_w = w / 8, top = 4 * o.base;
    const int64_t flat = top * side_h * side_w;
    encoder = torch::nn::Sequential(torch::nn::Conv2d(down(c, o.base)), torch::nn::SiLU(),
                                    torch::nn::Conv2d(down(o.base, 2 * o.base)), torch::nn::SiLU(),
                                    torch::nn::Conv2d(down(2 * o.base, top)), torch::nn::SiLU(),
                                    torch::nn::Flatten(), torch::nn::Linear(flat, o.dim));
    if (with_decoder)
      decoder = torch::nn::Sequential(torch::nn::Linear(o.dim, flat), torch::nn::SiLU(),
                                      torch::nn::Unflatten(torch::nn::UnflattenOptions(1, {top, side_h, side_w})),
                                      torch::nn::ConvTranspose2d(up(top, 2 * o.base)), torch::nn::SiLU(),
                                      torch::nn::ConvTranspose2d(up(2 * o.base, o.base)), torch::nn::SiLU(),
                                      torch::nn::ConvTranspose2d(up(o.base, c)));
    // Weights U(−1/√fan_in, 1/√fan_in) from our own seeded generator (not the global one),
    // so the random encoder is the same on every platform and run; biases 0.
    at::Generator gen = make_generator(seed);
    torch::NoGradGuard no_grad;
    for (torch::nn::Sequential* s : {&encoder, &decoder}) {
      if (!*s) continue;
      for (auto& p : (*s)->named_parameters()) {
        torch::Tensor t = p.value();
        if (t.dim() == 1) {
          t.zero_();
          continue;
        }
        // fan_in as PyTorch counts it: axis 1 times the kernel (for transposed convolutions too)
        const int64_t fan_in = t.size(1) * (t.dim() == 4 ? t.size(2) * t.size(3) : 1);
        const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
        t.copy_(at::rand(t.sizes(), gen, torch::kFloat32) * (2 * bound) - bound);
      }
    }
  }
};

nlohmann::json EncoderInfo::to_json() const {
  nlohmann::json j = {{"name", name}, {"version", version}, {"hash", hash},
                      {"frames", {height, width, channels}}, {"dim", options.dim}, {"base", options.base},
                      {"seed", seed}};
  if (!trained_on.empty()) j.update({{"trained_on", trained_on}, {"steps", steps}, {"final_loss", final_loss}});
  return j;
}

FrameEncoder::FrameEncoder(std::unique_ptr<Net> net, EncoderInfo info) : net_(std::move(net)), info_(std::move(info)) {
  net_->encoder->eval();
  rehash();
}
FrameEncoder::FrameEncoder(FrameEncoder&&) noexcept = default;
FrameEncoder& FrameEncoder::operator=(FrameEncoder&&) noexcept = default;
FrameEncoder::~FrameEncoder() = default;

void FrameEncoder::rehash() {
  char arch[160];
  std::snprintf(arch, sizeof arch, "dfbench frame encoder v%lld %lldx%lldx%lld dim %lld base %lld",
                static_cast<long long>(kEncoderVersion), static_cast<long long>(info_.height),
                static_cast<long long>(info_.width), static_cast<long long>(info_.channels),
                static_cast<long long>(info_.options.dim), static_cast<long long>(info_.options.base));
  uint64_t h = fnv1a(kFnvOffset, arch, std::strlen(arch));
  for (const auto& p : net_->encoder->named_parameters()) {
    const torch::Tensor t = p.value().detach().to(torch::kFloat32).contiguous();
    h = fnv1a(h, p.key().data(), p.key().size());
    h = fnv1a(h, t.data_ptr<float>(), static_cast<size_t>(t.numel()) * sizeof(float));
  }
  info_.hash = fnv1a_text(h);
}

FrameEncoder FrameEncoder::random(int64_t height, int64_t width, int64_t channels, const EncoderOptions& options,
                                  uint64_t seed) {
  check_size(height, width, channels, options);
  EncoderInfo info;
  info.name = "fd_random";
  info.height = height, info.width = width, info.channels = channels, info.options = options, info.seed = seed;
  return FrameEncoder(std::make_unique<Net>(height, width, channels, options, false, seed), info);
}

torch::Tensor FrameEncoder::features(const uint8_t* frames, int64_t n, int64_t batch) const {
  torch::InferenceMode guard;
  std::vector<torch::Tensor> out;
  const int64_t frame_bytes = info_.height * info_.width * info_.channels;
  for (int64_t i = 0; i < n; i += batch) {
    const int64_t b = std::min(batch, n - i);
    out.push_back(net_->encoder->forward(
        to_input(frames + i * frame_bytes, b, info_.height, info_.width, info_.channels)).to(torch::kFloat64));
  }
  return out.empty() ? torch::zeros({0, info_.options.dim}, torch::kFloat64) : torch::cat(out);
}

void FrameEncoder::save(const std::string& path) const {
  h5::Writer w(path);
  for (const auto& p : net_->encoder->named_parameters()) {
    const torch::Tensor t = p.value().detach().to(torch::kFloat32).contiguous();
    w.write("encoder/" + p.key(), h5::DType::kF32, t.data_ptr<float>(),
            std::vector<int64_t>(t.sizes().begin(), t.sizes().end()));
  }
  w.attr("/", "format", kFormat);
  w.attr("/", "version", info_.version);
  w.attr("/", "hash", info_.hash);
  w.attr("/", "info", info_.to_json().dump());
  w.commit();
}

FrameEncoder FrameEncoder::load(const std::string& path) {
  h5::Reader r(path);
  if (!r.has_attr("/", "format") || r.attr_string("/", "format") != kFormat)
    throw Error(path + ": not a dfbench frame encoder (make one with `dfbench encoder train`)");
  if (r.attr_int("/", "version") != kEncoderVersion)
    throw Error(path + ": encoder version " + std::to_string(r.attr_int("/", "version")) +
                " is not supported (this dfbench reads " + std::to_string(kEncoderVersion) + ")");
  EncoderInfo info;
  try {
    const nlohmann::json j = nlohmann::json::parse(r.attr_string("/", "info"));
    info.name = j.at("name");
    info.height = j.at("frames").at(0), info.width = j.at("frames").at(1), info.channels = j.at("frames").at(2);
    info.options.dim = j.at("dim"), info.options.base = j.at("base"), info.seed = j.at("seed");
    info.trained_on = j.value("trained_on", ""), info.steps = j.value("steps", 0);
    info.final_loss = j.value("final_loss", 0.0);
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + ": the encoder's info attribute is malformed (" + e.what() + ")");
  }
  check_size(info.height, info.width, info.channels, info.options);
  auto net = std::make_unique<Net>(info.height, info.width, info.channels, info.options, false, 0);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : net->encoder->named_parameters()) {
      const std::string name = "encoder/" + p.key();
      if (!r.is_dataset(name)) throw Error(path + ": " + name + " is missing");
      torch::Tensor t = p.value();
      std::vector<int64_t> shape = r.shape(name);
      if (shape != std::vector<int64_t>(t.sizes().begin(), t.sizes().end()))
        throw Error(path + ": " + name + " has the wrong shape");
      std::vector<float> v = r.read_f32(name);
      t.copy_(torch::from_blob(v.data(), t.sizes(), torch::kFloat32));
    }
  }
  const std::string stored = r.attr_string("/", "hash");
  FrameEncoder e(std::move(net), info);
  if (e.info_.hash != stored)
    throw Error(path + ": the weights do not match the stored hash " + stored + " (got " + e.info_.hash +
                "): the file was changed after training");
  return e;
}

FrameEncoder train_encoder(const Clips& train, const std::string& source, const EncoderTrainOptions& o) {
  check_size(train.height, train.width, train.channels, o.net);
  if (train.count * train.length < 2) throw Error(source + ": too few frames to train an encoder");
  if (o.steps < 1 || o.batch < 1) throw Error("encoder training: steps and batch must be >= 1");
  auto net = std::make_unique<FrameEncoder::Net>(train.height, train.width, train.channels, o.net, true, o.seed);
  NamedTensors params;
  for (torch::nn::Sequential* s : {&net->encoder, &net->decoder})
    for (auto& p : (*s)->named_parameters())
      params.emplace_back((s == &net->encoder ? "encoder." : "decoder.") + p.key(), p.value());
  FlatParameters flat(params);
  AdamW adam(flat, AdamWOptions{});
  at::Generator gen = make_generator(o.seed ^ 0x5eedf00dull);
  const int64_t frames = train.count * train.length, fb = train.frame_bytes();
  std::vector<uint8_t> batch(static_cast<size_t>(o.batch * fb));
  Progress progress("encoder", o.steps, 0, o.quiet ? 1e9 : 10.0);
  double recent = 0;
  for (int64_t step = 0; step < o.steps; ++step) {
    const torch::Tensor pick = at::randint(frames, {o.batch}, gen, torch::kInt64);
    for (int64_t i = 0; i < o.batch; ++i)
      std::memcpy(batch.data() + i * fb, train.frames.data() + pick[i].item<int64_t>() * fb, static_cast<size_t>(fb));
    const torch::Tensor x = to_input(batch.data(), o.batch, train.height, train.width, train.channels);
    const torch::Tensor loss = torch::mse_loss(net->decoder->forward(net->encoder->forward(x)), x);
    const double value = loss.item<double>();
    if (!std::isfinite(value))
      throw Error("encoder training: the loss became " + std::to_string(value) + " at step " + std::to_string(step) +
                  "; lower the learning rate");
    adam.zero_grad();
    loss.backward();
    adam.step(o.lr * 0.5 * (1 + std::cos(M_PI * step / static_cast<double>(o.steps))));
    recent = step == 0 ? value : 0.95 * recent + 0.05 * value;
    if (!o.quiet) progress.update(step + 1, "mse " + std::to_string(recent).substr(0, 8));
  }
  if (!o.quiet) progress.finish();
  net->decoder = nullptr;
  EncoderInfo info;
  info.name = "fd_self";
  info.height = train.height, info.width = train.width, info.channels = train.channels;
  info.options = o.net, info.seed = o.seed, info.trained_on = source, info.steps = o.steps, info.final_loss = recent;
  return FrameEncoder(std::move(net), info);
}

}  // namespace dfb

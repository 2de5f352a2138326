#include "rollout/denoiser.h"

#include <torch/torch.h>

#include "base/error.h"
#include "tensor/compat.h"

namespace dfb {

namespace {

// Leading frames with from == to == 0 in every sample.
int64_t leading_clean(const torch::Tensor& from, const torch::Tensor& to) {
  torch::Tensor still = ((from == 0) & (to == 0)).all(0);
  const int64_t t = still.size(0);
  int64_t p = 0;
  while (p < t && still[p].item<bool>()) ++p;
  return p;
}

int64_t frames_of(const torch::Tensor& x) { return x.defined() ? x.size(1) : 0; }

}  // namespace

Denoiser::Denoiser(Backbone model, const Diffusion& diffusion)
    : model_(std::move(model)), memory_(model_->make_memory()), diffusion_(diffusion) {}

torch::Tensor Denoiser::noise(int64_t batch, int64_t frames, const torch::Tensor& like, at::Generator& gen) const {
  torch::Tensor eps = torch::randn({batch, frames, like.size(2), like.size(3), like.size(4)}, gen,
                                   torch::TensorOptions().dtype(torch::kFloat32));
  return eps.to(like.device(), like.scalar_type());
}

std::pair<torch::Tensor, torch::Tensor> Denoiser::plans(const torch::Tensor& x, const torch::Tensor& from_in,
                                                        const torch::Tensor& to_in) const {
  const int64_t b = x.size(0), t = x.size(1);
  torch::Tensor from = from_in.dim() == 1 ? from_in.unsqueeze(0).expand({b, t}) : from_in;
  torch::Tensor to = to_in.dim() == 1 ? to_in.unsqueeze(0).expand({b, t}) : to_in;
  from = from.to(torch::kCPU, torch::kLong).contiguous();
  to = to.to(torch::kCPU, torch::kLong).contiguous();
  if (from.size(0) != b || from.size(1) != t || to.sizes() != from.sizes())
    throw Error("Denoiser::step: level plans must be [B, T] = [" + std::to_string(b) + ", " + std::to_string(t) + "]");
  if ((to > from).any().item<bool>()) throw Error("Denoiser::step: a frame's target level is above its current level");
  return {from, to};
}

torch::Tensor Denoiser::step(const torch::Tensor& x, const torch::Tensor& from_in, const torch::Tensor& to_in,
                             const StepOptions& options, at::Generator& gen) {
  auto [from, to] = plans(x, from_in, to_in);
  const int64_t p = leading_clean(from, to);
  if (p == x.size(1)) return x;
  if (p == 0) return step_after(torch::Tensor(), x, from, to, options, gen);
  torch::Tensor history = x.slice(1, 0, p);
  return torch::cat({history, step_after(history, x.slice(1, p), from.slice(1, p), to.slice(1, p), options, gen)}, 1);
}

torch::Tensor Denoiser::step_after(const torch::Tensor& history, const torch::Tensor& x, const torch::Tensor& from_in,
                                   const torch::Tensor& to_in, const StepOptions& options, at::Generator& gen) {
  auto [from, to] = plans(x, from_in, to_in);
  const int64_t b = x.size(0), t = x.size(1), h = frames_of(history);
  if (!recurrent() && h + t > window())
    throw Error("Denoiser::step: " + std::to_string(h + t) + " frames exceed the model window of " +
                std::to_string(window()));
  // x's own leading clean frames join the history.
  const int64_t q = leading_clean(from, to);
  if (q == t) return x;
  const int64_t p = h + q;  // history frames in all
  const bool cached = use_history_cache_ && memory_ != nullptr;
  if (recurrent() && cached && options.guidance != 1.0)
    throw Error("history guidance needs a windowed backbone (unet3d); a recurrent one keeps no history to re-noise");
  if (p > 0 && recurrent() && cached) {
    set_recurrent_history(h > 0 ? history : x.slice(1, 0, 0), x.slice(1, 0, q), options.clean_input_level,
                          options.scaled_history, gen);
  } else if (p > 0) {
    set_history(h > 0 ? history : x.slice(1, 0, 0), x, q, options.clean_input_level, options.scaled_history, gen);
  } else {
    history_key_ = torch::Tensor();
    history_id_ = HistoryId{};
    state_frames_ = 0;
  }

  // The other frames: those that stay clean are stabilized afresh, the moving ones shown as they are.
  torch::Tensor rest = x.slice(1, q), rest_from = from.slice(1, q), rest_to = to.slice(1, q);
  torch::Tensor input = rest, input_levels = rest_from;
  if (options.clean_input_level > 0) {
    torch::Tensor stable = (rest_from == 0) & (rest_to == 0);
    if (stable.any().item<bool>()) {
      input_levels = torch::where(stable, torch::full_like(rest_from, options.clean_input_level), rest_from);
      torch::Tensor noised = stabilized(rest, input_levels, options.scaled_history, gen);
      input = torch::where(stable.to(x.device()).reshape({b, t - q, 1, 1, 1}), noised, rest);
    }
  }
  auto level_input = [&](const torch::Tensor& lv) {
    return (lv.to(torch::kFloat32) / static_cast<double>(diffusion_.num_levels())).to(x.device());
  };
  // The prediction for the frames after a history shown as `shown` at `levels`, whole window, no cache.
  auto after_history = [&](const torch::Tensor& shown, const torch::Tensor& levels) {
    return model_->forward(torch::cat({shown, input}, 1), level_input(torch::cat({levels, input_levels}, 1))).slice(1, p);
  };
  torch::Tensor prediction;
  Autocast autocast(x.device(), precision_);  // the backbone's calls; the DDIM update below in fp32
  {
    torch::NoGradGuard no_grad;
    if (p > 0 && cached) {
      if (!history_in_model_) {
        memory_->assign(history_input_, level_input(history_levels_));
        history_in_model_ = true;
      }
      prediction = memory_->forward(input, level_input(input_levels));
    } else if (p > 0) {
      prediction = after_history(history_input_, history_levels_);
    } else {
      prediction = model_->forward(input, level_input(input_levels));
    }
  }
  ++calls_;
  if (p > 0 && options.guidance != 1.0) {
    const int64_t g = options.guidance_level >= 0 ? options.guidance_level : diffusion_.num_levels();
    const torch::Tensor guide_levels = torch::full({b, p}, g, torch::kLong);
    if (!guide_input_.defined() || guide_level_ != g) {
      guide_level_ = g;
      guide_input_ = diffusion_.q_sample(history_key_, guide_levels, diffusion_.noise_like(history_key_, gen));
    }
    torch::Tensor unguided;
    {
      torch::NoGradGuard no_grad;
      unguided = after_history(guide_input_, guide_levels);
    }
    ++calls_;
    prediction = prediction.to(torch::kFloat32);  // the mix in fp32, as the update
    unguided = unguided.to(torch::kFloat32);
    prediction = unguided + options.guidance * (prediction - unguided);
  }
  prediction = prediction.to(torch::kFloat32);  // a no-op when it already is
  // Estimates for the frames that move come from their own (un-stabilized) input.
  Diffusion::Estimate est = diffusion_.estimate(input, prediction, input_levels);
  torch::Tensor moved = diffusion_.ddim_step(rest, est, rest_from, rest_to, options.eta, gen);
  return q > 0 ? torch::cat({x.slice(1, 0, q), moved}, 1) : moved;
}

Diffusion::Estimate Denoiser::estimate(const torch::Tensor& x, const torch::Tensor& levels_in) {
  const int64_t b = x.size(0), t = x.size(1);
  torch::Tensor levels = levels_in.dim() == 1 ? levels_in.unsqueeze(0).expand({b, t}) : levels_in;
  levels = levels.to(torch::kCPU, torch::kLong).contiguous();
  if (!recurrent() && t > window())
    throw Error("Denoiser::estimate: " + std::to_string(t) + " frames exceed the model window of " +
                std::to_string(window()));
  torch::Tensor prediction;
  {
    Autocast autocast(x.device(), precision_);
    prediction = model_->forward(x, (levels.to(torch::kFloat32) / static_cast<double>(diffusion_.num_levels())).to(x.device()));
  }
  prediction = prediction.to(torch::kFloat32);
  ++calls_;
  return diffusion_.estimate(x, prediction, levels);
}

Denoiser::HistoryId Denoiser::HistoryId::of(const torch::Tensor& frames, int64_t joined) {
  HistoryId id;
  if (!frames.defined() || frames.size(1) == 0) return id;
  id.data = frames.data_ptr();
  id.sizes = frames.sizes().vec();
  id.strides = frames.strides().vec();
  id.version = frames.is_inference() ? 0 : frames._version();  // inference tensors keep no write count
  id.joined = joined;
  return id;
}

bool Denoiser::HistoryId::operator==(const HistoryId& o) const {
  return data != nullptr && data == o.data && sizes == o.sizes && strides == o.strides && version == o.version &&
         joined == o.joined;
}

torch::Tensor Denoiser::stabilized(const torch::Tensor& frames, const torch::Tensor& levels, bool scaled,
                                 at::Generator& gen) const {
  return diffusion_.q_sample(frames, levels, scaled ? torch::zeros_like(frames) : diffusion_.noise_like(frames, gen));
}

void Denoiser::set_history(const torch::Tensor& a, const torch::Tensor& x, int64_t q, int64_t level, bool scaled,
                           at::Generator& gen) {
  state_frames_ = 0;
  // The history is `a` (the caller's frames) and x's first q clean frames. It is the one of
  // the last call when `a` is the same frames of the same, unwritten buffer and q is the same:
  // x's clean frames come back from every step unchanged, so they are the last call's too.
  const int64_t h = frames_of(a);
  const HistoryId id = HistoryId::of(h > 0 ? a : x.slice(1, 0, q), h > 0 ? q : 0);
  if (id == history_id_ && history_key_.defined() && history_level_ == level && history_scaled_ == scaled)
    return;  // the same history as the last call: keep its input and the backbone's memory
  const torch::Tensor history = q == 0 ? a : h == 0 ? x.slice(1, 0, q) : torch::cat({a, x.slice(1, 0, q)}, 1);
  history_id_ = id;
  history_key_ = history;  // not written while it is the history (a view of the caller's buffer, or a copy)
  history_level_ = level;
  history_scaled_ = scaled;
  history_levels_ = torch::full({history.size(0), history.size(1)}, level, torch::kLong);
  history_input_ = level > 0 ? stabilized(history, history_levels_, scaled, gen) : history;
  history_in_model_ = false;
  guide_input_ = torch::Tensor();
}

void Denoiser::set_recurrent_history(const torch::Tensor& a, const torch::Tensor& b, int64_t level, bool scaled,
                                     at::Generator& gen) {
  const int64_t na = frames_of(a), p = na + frames_of(b);
  // Frames [i0, i1) of the history a ++ b, copied only where they straddle the two.
  auto span = [&](int64_t i0, int64_t i1) {
    if (i1 <= na) return a.slice(1, i0, i1);
    if (i0 >= na) return b.slice(1, i0 - na, i1 - na);
    return torch::cat({a.slice(1, i0, na), b.slice(1, 0, i1 - na)}, 1);
  };
  auto shown = [&](const torch::Tensor& frames) {  // noised to the history level (stabilization), labelled with it
    history_levels_ = torch::full({frames.size(0), frames.size(1)}, level, torch::kLong);
    return level > 0 ? stabilized(frames, history_levels_, scaled, gen) : frames;
  };
  auto level_input = [&](const torch::Tensor& lv) {
    return (lv.to(torch::kFloat32) / static_cast<double>(diffusion_.num_levels())).to(span(0, 1).device());
  };
  // The same rollout's history, grown: `a` starts where the last one did in the same buffer and
  // holds at least the frames the state has seen (a rollout only appends behind its history).
  const bool same = state_frames_ > 0 && state_frames_ <= p && history_in_model_ && history_level_ == level &&
                    history_scaled_ == scaled &&
                    na > 0 && state_history_.defined() && a.data_ptr() == state_history_.data_ptr() &&
                    a.strides() == state_history_.strides() && na >= frames_of(state_history_);
  torch::NoGradGuard no_grad;
  if (!same) {  // a new rollout (or a different history): rebuild the state from all of it
    torch::Tensor input = shown(span(0, p));
    memory_->assign(input, level_input(history_levels_));
  } else if (p > state_frames_) {  // the same rollout, grown: the state sees the new frames only
    torch::Tensor input = shown(span(state_frames_, p));
    memory_->extend(input, level_input(history_levels_));
  }
  history_in_model_ = true;
  history_level_ = level;
  history_scaled_ = scaled;
  history_key_ = torch::Tensor();  // the frames are not kept: the state stands for them
  history_input_ = torch::Tensor();
  history_id_ = HistoryId{};
  state_frames_ = p;
  state_history_ = na > 0 ? a : torch::Tensor();  // a view: keeps the buffer alive, so its address stays its own
}

}  // namespace dfb

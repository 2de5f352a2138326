#include "tensor/frames.h"

#include <torch/torch.h>

namespace dfb {

torch::Tensor frames_to_tensor(const uint8_t* data, int64_t n, int64_t length, int64_t height, int64_t width,
                               int64_t channels) {
  return torch::from_blob(const_cast<uint8_t*>(data), {n, length, height, width, channels}, torch::kUInt8)
      .permute({0, 1, 4, 2, 3})
      .to(torch::kFloat32)
      .div(127.5)
      .sub(1.0);
}

torch::Tensor clips_to_tensor(const Clips& c) {
  return frames_to_tensor(c.frames.data(), c.count, c.length, c.height, c.width, c.channels).contiguous();
}

std::vector<uint8_t> tensor_to_frames(const torch::Tensor& frames) {
  torch::Tensor u8 = frames.detach().to(torch::kCPU, torch::kFloat32).add(1.0).mul(127.5).round().clamp(0, 255)
                         .to(torch::kUInt8).permute({0, 1, 3, 4, 2}).contiguous();
  return std::vector<uint8_t>(u8.data_ptr<uint8_t>(), u8.data_ptr<uint8_t>() + u8.numel());
}

}  // namespace dfb

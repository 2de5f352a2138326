#include "tensor/environment.h"

#include <torch/torch.h>

#include <ctime>

#include "base/presets.h"
#include "tensor/compat.h"

namespace dfb {

nlohmann::json environment_json(const std::string& device) {
  char when[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  nlohmann::json env = {
      {"dfbench_version", DFB_VERSION},
      {"git_hash", build_git_hash()},
      {"torch_version", torch_version_string()},
      {"device", device},
      {"cuda_available", cuda_available()},
      {"threads", at::get_num_threads()},
      {"compiler", __VERSION__},
      {"written_at", when},
  };
  if (device.rfind("cuda", 0) == 0 && cuda_available()) env["cuda_devices"] = torch::cuda::device_count();
  return env;
}

}  // namespace dfb

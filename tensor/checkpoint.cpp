#include "tensor/checkpoint.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "tensor/compat.h"
#include "base/error.h"
#include "formats/h5.h"

namespace dfb {
namespace fs = std::filesystem;

void write_checkpoint(const std::string& path, int64_t step, uint64_t seed, const std::string& config_json,
                      const std::vector<std::pair<std::string, NamedTensors>>& groups) {
  h5::Writer w(path);
  for (const auto& [group, tensors] : groups) {
    for (const auto& [name, tensor] : tensors) {
      torch::Tensor t = tensor.detach().to(torch::kCPU, torch::kFloat32).contiguous();
      w.write(group + "/" + name, h5::DType::kF32, t.data_ptr<float>(), t.sizes().vec());
    }
  }
  w.attr("/", "format", std::string("dfbench checkpoint"));
  w.attr("/", "schema_version", kCheckpointSchemaVersion);
  w.attr("/", "step", step);
  w.attr("/", "seed", static_cast<int64_t>(seed));
  w.attr("/", "rng", std::string("the RNG of step s is a CPU generator seeded with step_seed(seed, s)"));
  w.attr("/", "config", config_json);
  w.attr("/", "torch_version", torch_version_string());
  w.commit();
}

namespace {
void read_group(const h5::Reader& r, const std::string& prefix, std::map<std::string, torch::Tensor>& out) {
  for (const std::string& child : r.list(prefix.empty() ? "/" : prefix)) {
    const std::string name = prefix.empty() ? child : prefix + "/" + child;
    if (!r.is_dataset(name)) {
      read_group(r, name, out);
      continue;
    }
    std::vector<int64_t> shape = r.shape(name);
    torch::Tensor t = torch::empty(shape, torch::kFloat32);
    r.read(name, h5::DType::kF32, t.data_ptr<float>());
    out[name] = t;
  }
}
}  // namespace

CheckpointData read_checkpoint(const std::string& path) {
  h5::Reader r(path);
  if (!r.has_attr("/", "format") || r.attr_string("/", "format") != "dfbench checkpoint")
    throw Error(path + ": not a dfbench checkpoint (no 'format' attribute)");
  const int64_t version = r.attr_int("/", "schema_version");
  if (version != kCheckpointSchemaVersion)
    throw Error(path + ": checkpoint schema " + std::to_string(version) + " is not supported (this dfbench reads " +
                std::to_string(kCheckpointSchemaVersion) + ")");
  CheckpointData d;
  d.step = r.attr_int("/", "step");
  d.seed = static_cast<uint64_t>(r.attr_int("/", "seed"));
  d.config_json = r.attr_string("/", "config");
  d.torch_version = r.attr_string("/", "torch_version");
  read_group(r, "", d.tensors);
  return d;
}

std::string checkpoint_path(const std::string& run_dir, int64_t step) {
  char name[64];
  std::snprintf(name, sizeof name, "step_%06lld.h5", static_cast<long long>(step));
  return (fs::path(run_dir) / "checkpoints" / name).string();
}

namespace {
std::vector<std::pair<int64_t, std::string>> list_checkpoints(const std::string& run_dir) {
  std::vector<std::pair<int64_t, std::string>> out;
  const fs::path dir = fs::path(run_dir) / "checkpoints";
  if (!fs::is_directory(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string f = e.path().filename().string();
    long long step = 0;
    char tail[8] = {0};
    if (f.size() == 14 && std::sscanf(f.c_str(), "step_%6lld.%2s", &step, tail) == 2 && std::string(tail) == "h5")
      out.emplace_back(step, e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}
}  // namespace

std::string latest_checkpoint(const std::string& run_dir) {
  auto all = list_checkpoints(run_dir);
  return all.empty() ? "" : all.back().second;
}

void prune_checkpoints(const std::string& run_dir, int64_t keep) {
  auto all = list_checkpoints(run_dir);
  for (size_t i = 0; i + static_cast<size_t>(keep) < all.size(); ++i) fs::remove(all[i].second);
}

}  // namespace dfb

#include "tensor/checkpoint.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "tensor/compat.h"
#include "base/error.h"
#include "formats/h5.h"
#include "base/hash.h"

namespace dfb {
namespace fs = std::filesystem;

namespace {
// Every tensor carries the FNV-1a 64 of its float32 bytes as the attribute "fnv1a64"; the root's
// attribute "checksums" says so (checkpoints from before it have neither and are read unchecked).
constexpr const char* kChecksumKind = "fnv1a64 of each tensor's float32 bytes";
size_t float_bytes(const torch::Tensor& t) { return static_cast<size_t>(t.numel()) * sizeof(float); }
}  // namespace

void write_checkpoint(const std::string& path, int64_t step, uint64_t seed, const std::string& config_json,
                      const std::vector<std::pair<std::string, NamedTensors>>& groups) {
  h5::Writer w(path);
  for (const auto& [group, tensors] : groups) {
    for (const auto& [name, tensor] : tensors) {
      torch::Tensor t = tensor.detach().to(torch::kCPU, torch::kFloat32).contiguous();
      w.write(group + "/" + name, h5::DType::kF32, t.data_ptr<float>(), t.sizes().vec());
      w.attr(group + "/" + name, "fnv1a64", checksum_text(t.data_ptr<float>(), float_bytes(t)));
    }
  }
  w.attr("/", "checksums", std::string(kChecksumKind));
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
void read_group(const h5::Reader& r, const std::string& prefix, bool checked, std::map<std::string, torch::Tensor>& out) {
  for (const std::string& child : r.list(prefix.empty() ? "/" : prefix)) {
    const std::string name = prefix.empty() ? child : prefix + "/" + child;
    if (!r.is_dataset(name)) {
      read_group(r, name, checked, out);
      continue;
    }
    std::vector<int64_t> shape = r.shape(name);
    r.check_fits(name, h5::DType::kF32);
    torch::Tensor t = torch::empty(shape, torch::kFloat32);
    r.read(name, h5::DType::kF32, t.data_ptr<float>());
    if (checked) {
      if (!r.has_attr(name, "fnv1a64"))
        throw Error(r.path() + ": tensor '" + name + "' has no checksum (attribute fnv1a64): the file is damaged");
      check_checksum(r.path() + ": tensor '" + name + "'", r.attr_string(name, "fnv1a64"), t.data_ptr<float>(),
                     float_bytes(t));
    }
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
  read_group(r, "", r.has_attr("/", "checksums"), d.tensors);
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

std::string latest_intact_checkpoint(const std::string& run_dir, std::string* note, CheckpointData* data) {
  auto all = list_checkpoints(run_dir);
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    try {
      CheckpointData read = read_checkpoint(it->second);
      if (data) *data = std::move(read);
      return it->second;
    } catch (const Error& e) {
      const std::string aside = it->second + ".damaged";
      std::error_code ec;
      fs::rename(it->second, aside, ec);
      if (ec) throw Error(std::string(e.what()) + "; and it cannot be set aside: " + ec.message());
      if (note)
        *note += (note->empty() ? "" : "\n") + std::string(e.what()) + "; set aside as " + aside +
                 (std::next(it) == all.rend() ? "; no earlier checkpoint" : "; falling back to the one before");
    }
  }
  return "";
}

void prune_checkpoints(const std::string& run_dir, int64_t keep) {
  auto all = list_checkpoints(run_dir);
  for (size_t i = 0; i + static_cast<size_t>(keep) < all.size(); ++i) fs::remove(all[i].second);
}

}  // namespace dfb

// Data-parallel training across processes on c10d (see distributed.h).
#include "train/distributed.h"

#include <torch/torch.h>

#include <chrono>
#include <cstdlib>
#include <vector>

#include "base/error.h"

#if __has_include(<torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>) && __has_include(<gloo/algorithm.h>) && \
    defined(USE_C10D_GLOO)
#define DFB_HAVE_GLOO 1
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#else
#define DFB_HAVE_GLOO 0
#endif
#if DFB_HAVE_GLOO && defined(USE_C10D_NCCL) && __has_include(<torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>)
#define DFB_HAVE_NCCL 1
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#else
#define DFB_HAVE_NCCL 0
#endif

namespace dfb {
namespace {

bool read_int(const char* name, int64_t* out) {
  const char* v = std::getenv(name);
  if (!v || !*v) return false;
  char* end = nullptr;
  const long long x = std::strtoll(v, &end, 10);
  if (*end != '\0') throw Error(std::string("the environment variable ") + name + "='" + v + "' is not an integer");
  *out = x;
  return true;
}

}  // namespace

WorldOptions world_from_environment() {
  WorldOptions w;
  if (read_int("WORLD_SIZE", &w.size)) {
    w.source = "torchrun";
    if (!read_int("RANK", &w.rank)) throw Error("WORLD_SIZE is set but RANK is not (torchrun sets both)");
    if (!read_int("LOCAL_RANK", &w.local_rank)) w.local_rank = w.rank;
  } else if (read_int("SLURM_STEP_NUM_TASKS", &w.size) && w.size > 1) {  // srun -n N (not the batch script)
    w.source = "slurm";
    read_int("SLURM_PROCID", &w.rank);
    if (!read_int("SLURM_LOCALID", &w.local_rank)) w.local_rank = w.rank;
  } else {
    return WorldOptions{};
  }
  if (w.size < 1) throw Error("the world size is " + std::to_string(w.size) + "; it must be at least 1");
  if (w.rank < 0 || w.rank >= w.size)
    throw Error("rank " + std::to_string(w.rank) + " is outside a world of " + std::to_string(w.size));
  if (const char* a = std::getenv("MASTER_ADDR"); a && *a) w.master_addr = a;
  read_int("MASTER_PORT", &w.master_port);
  if (w.master_port < 1 || w.master_port > 65535) throw Error("MASTER_PORT must be a port number (1-65535)");
  return w;
}

bool joins_a_world(const WorldOptions& world) { return world.source == "torchrun" || world.size > 1; }

#if DFB_HAVE_GLOO
struct Communicator::Impl {
  torch::Device device = torch::kCPU;  // where collectives' tensors live (NCCL: the rank's GPU)
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> gloo;
#if DFB_HAVE_NCCL
  c10::intrusive_ptr<c10d::ProcessGroupNCCL> nccl;
#endif
  void all_reduce(std::vector<at::Tensor>& t) {
#if DFB_HAVE_NCCL
    if (nccl) {
      nccl->allreduce(t)->wait();
      return;
    }
#endif
    gloo->allreduce(t)->wait();
  }
};

Communicator::Communicator(const WorldOptions& world, const torch::Device& device)
    : impl_(std::make_unique<Impl>()), world_(world) {
  impl_->device = device;
  const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(world.timeout_seconds * 1000));
  try {
    c10d::TCPStoreOptions so;
    so.port = static_cast<std::uint16_t>(world.master_port);
    so.isServer = world.rank == 0;
    so.numWorkers = static_cast<std::size_t>(world.size);
    so.waitWorkers = true;
    so.timeout = timeout;
    impl_->store = c10::make_intrusive<c10d::TCPStore>(world.master_addr, so);
#if DFB_HAVE_NCCL
    if (device.is_cuda()) {
      // A rank that dies must not leave the others waiting forever.
      setenv("TORCH_NCCL_ASYNC_ERROR_HANDLING", "1", 0);
      setenv("NCCL_ASYNC_ERROR_HANDLING", "1", 0);
      auto o = c10d::ProcessGroupNCCL::Options::create();
      o->timeout = timeout;
      impl_->nccl = c10::make_intrusive<c10d::ProcessGroupNCCL>(impl_->store, static_cast<int>(world.rank),
                                                                static_cast<int>(world.size), o);
      backend_ = "nccl";
      return;
    }
#endif
    auto o = c10d::ProcessGroupGloo::Options::create(timeout);
    o->devices.push_back(world.master_addr == "127.0.0.1" || world.master_addr == "localhost"
                             ? c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
                             : c10d::ProcessGroupGloo::createDefaultDevice());
    o->threads = 2;
    impl_->device = torch::kCPU;
    impl_->gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(impl_->store, static_cast<int>(world.rank),
                                                              static_cast<int>(world.size), o);
    backend_ = "gloo";
  } catch (const std::exception& e) {
    throw Error("cannot join the world of " + std::to_string(world.size) + " processes at " + world.master_addr + ":" +
                std::to_string(world.master_port) + " as rank " + std::to_string(world.rank) + ": " + e.what());
  }
}

void Communicator::all_reduce_sum(torch::Tensor& t) {
  std::vector<at::Tensor> v = {t};
  impl_->all_reduce(v);
}

void Communicator::barrier() {
  torch::Tensor one = torch::ones({1}, torch::TensorOptions().device(impl_->device));
  all_reduce_sum(one);
}

torch::Device Communicator::device() const { return impl_->device; }
#else
struct Communicator::Impl {};

Communicator::Communicator(const WorldOptions& world, const torch::Device&) : world_(world) {
  throw Error("this build of dfbench has no c10d Gloo (LibTorch without distributed support, or no gloo headers: "
              "Debian's libgloo-dev); it cannot train across " + std::to_string(world.size) + " processes");
}
void Communicator::all_reduce_sum(torch::Tensor&) {}
void Communicator::barrier() {}
torch::Device Communicator::device() const { return torch::kCPU; }
#endif

Communicator::~Communicator() = default;

}  // namespace dfb

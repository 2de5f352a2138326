// Data-parallel training across processes on c10d (LibTorch's collectives): Gloo on CPU, NCCL
// on CUDA where LibTorch was built with it. A process learns its place from the variables
// torchrun sets (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT) or, under srun, from
// SLURM_PROCID, SLURM_STEP_NUM_TASKS and SLURM_LOCALID (MASTER_ADDR and MASTER_PORT still name rank 0's
// host and a free port). The trainer (train/trainer.h) gives each rank its share of every
// global batch, sums the gradients, and lets rank 0 write.
#pragma once
#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>

namespace dfb {

struct WorldOptions {
  int64_t rank = 0, size = 1, local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int64_t master_port = 29500;
  // Rendezvous and each collective. Generous: the other ranks wait in the next all-reduce while
  // rank 0 alone validates and writes checkpoints.
  double timeout_seconds = 1800;
  std::string source = "none";   // which variables said so: "torchrun", "slurm" or "none"
};

// The world the environment describes (size 1 when it describes none); throws dfb::Error on
// values that contradict each other (a rank outside the world, a size below 1).
WorldOptions world_from_environment();
// Whether to join it: torchrun's variables (even WORLD_SIZE=1, as torchrun --nproc-per-node 1
// sets them: the collective path on one process), or srun with several tasks.
bool joins_a_world(const WorldOptions& world);

class Communicator {
 public:
  // Joins the world (rank 0 hosts the rendezvous store at master_addr:master_port and waits
  // for the others). `device` picks the backend: NCCL for CUDA where built, else Gloo.
  Communicator(const WorldOptions& world, const torch::Device& device);
  ~Communicator();
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  int64_t rank() const { return world_.rank; }
  int64_t size() const { return world_.size; }
  const std::string& backend() const { return backend_; }
  // Sums `t` over every rank, in place (every rank gets the sum).
  void all_reduce_sum(torch::Tensor& t);
  // Waits until every rank got here.
  void barrier();
  // Where the tensors given to all_reduce_sum must be (the rank's GPU with NCCL, else the CPU).
  torch::Device device() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  WorldOptions world_;
  std::string backend_;
};

}  // namespace dfb

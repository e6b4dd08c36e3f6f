// distributed/nccl_communicator.h — the communicator for CUDA tensors: NCCL on the
// tensors' device memory, bootstrapped over MPI.
//
// Bootstrap (the NCCL way without its own launcher): rank 0 asks NCCL for a unique
// id, MPI broadcasts its 128 bytes to every rank, and every rank joins the
// communicator with (world size, id, its rank). Each process must have picked its
// GPU first (bind_local_gpu). Sums and broadcasts hand NCCL the tensors' device
// pointers: nothing is copied to the host, and the host never waits for a
// reduction; the GPU's compute stream does (see nccl_api.h).
//
// Not run on a GPU: no GPU was available to this project. Its logic is tested with
// a stand-in for the NCCL calls on the CPU-backed fake device (tests/distributed/).
#pragma once

#include <memory>

#include "distributed/communicator.h"
#include "distributed/nccl_api.h"

namespace ta::dist {

class NcclCommunicator final : public Communicator {
 public:
  // Bootstraps the communicator over MPI (a collective: every rank makes one).
  explicit NcclCommunicator(std::unique_ptr<NcclApi> api);

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void broadcast(const Tensor& t) override;
  int start_sum(const Tensor& flat) override;
  void progress() override {}
  void wait(int ticket) override;
  std::vector<double> sum_on_host(std::vector<double> values) override;

 private:
  std::unique_ptr<NcclApi> api_;
  int rank_, size_;
};

// NcclCommunicator over the real NCCL calls.
std::unique_ptr<Communicator> make_nccl_communicator();

}  // namespace ta::dist

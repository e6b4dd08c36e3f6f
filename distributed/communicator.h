// distributed/communicator.h — the collectives on tensors that data parallelism
// needs, done where the tensors live: MPI on host memory for CPU tensors
// (distributed/mpi.cpp), NCCL on device memory for CUDA tensors
// (distributed/nccl_communicator.h), without a copy to the host.
//
// Sums are started without waiting (start_sum) and finished later (wait), so that
// a reduction runs while backward computes the next gradients. The order of the
// calls must be the same on every rank: collectives are matched by order, not by
// name (GradientReducer launches its buckets in a fixed order for this reason).
#pragma once

#include <memory>
#include <vector>

#include "core/device.h"
#include "core/tensor.h"

namespace ta::dist {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;

  // Overwrites t on every rank with rank 0's values.
  virtual void broadcast(const Tensor& t) = 0;
  // Starts summing `flat` over all ranks, in place (every rank ends up with the
  // sum); returns a ticket for wait(). `flat` must not be touched until then.
  virtual int start_sum(const Tensor& flat) = 0;
  // Lets sums in flight advance. MPI moves a non-blocking collective forward only
  // inside MPI calls, so a caller that computes between start_sum and wait calls
  // this now and then (GradientReducer: at every gradient it packs). NCCL: nothing.
  virtual void progress() = 0;
  // After this the sum of start_sum's ticket is in its tensor for all later work:
  // the host waits for it (MPI), or the GPU's compute stream does (NCCL).
  virtual void wait(int ticket) = 0;
  // Element-wise sums of a few host numbers (which parameters got a gradient).
  virtual std::vector<double> sum_on_host(std::vector<double> values) = 0;
};

// The communicator for tensors on `device`, made on first use and released by the
// Session: in a run of one process one that does nothing (a sum over one rank is
// the tensor itself); otherwise MPI for Device::CPU and NCCL for Device::CUDA.
Communicator& communicator(Device device);

// Tests put their own communicator behind a device (nullptr restores the default).
void override_communicator_for_testing(Device device, Communicator* c);

// The MPI communicator over all ranks, for host memory (distributed/mpi.cpp; an
// error in a build without MPI, where a run has one process and never asks).
std::unique_ptr<Communicator> make_mpi_communicator();

// For the Session: destroys the communicators made so far, before MPI ends.
void release_communicators();

}  // namespace ta::dist

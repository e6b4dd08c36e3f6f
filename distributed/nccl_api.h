// distributed/nccl_api.h — the NCCL and CUDA runtime calls that the NCCL
// communicator makes, behind an interface, so that its logic (the bootstrap over
// MPI, device buffers handed over without a host copy) is tested on machines
// without a GPU: tests put a stand-in over MPI behind it (tests/distributed/).
//
// The real calls (distributed/nccl_api_cuda.cpp) use a communication stream of
// their own, created non-blocking: the CUDA backend queues all its work on the
// legacy default stream, which would otherwise wait for every other stream and
// serialize communication with computation. Order between the two streams is kept
// with events: a reduction starts after the work queued before it on the compute
// stream (the gradients packed into its buffer), and the compute stream waits for
// the reductions before the gradients are read back.
#pragma once

#include <array>
#include <cstdint>
#include <memory>

namespace ta::dist {

class NcclApi {
 public:
  using UniqueId = std::array<char, 128>;  // the bytes of an ncclUniqueId (NCCL_UNIQUE_ID_BYTES)

  virtual ~NcclApi() = default;
  // ncclGetUniqueId: rank 0 makes the id that names the communicator.
  virtual UniqueId unique_id() = 0;
  // ncclCommInitRank on the current GPU (bind_local_gpu), plus the stream and events.
  virtual void init(int world, const UniqueId& id, int rank) = 0;
  // ncclAllReduce(sum) of n floats in place on device memory, on the communication
  // stream, after everything queued so far on the compute stream.
  virtual void all_reduce_sum(float* data, int64_t n) = 0;
  // ncclBroadcast of n floats from rank 0, in place, ordered the same way.
  virtual void broadcast(float* data, int64_t n) = 0;
  // Work queued on the compute stream from now on waits for everything queued so
  // far on the communication stream. The host does not wait.
  virtual void compute_waits_for_communication() = 0;
};

// The real calls, or in a build without CUDA or NCCL an error saying so.
std::unique_ptr<NcclApi> make_nccl_api();

}  // namespace ta::dist

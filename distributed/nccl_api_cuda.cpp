// distributed/nccl_api_cuda.cpp — the real NCCL and CUDA calls behind NcclApi
// (built when the Makefile finds nvcc, NCCL in the CUDA toolkit, and MPI).
//
// Host code only: like core/cuda/*.cpp it needs the toolkit's headers, not nvcc.
// Never run: no GPU was available to this project (see distributed/README.md).
#include <cuda_runtime.h>
#include <nccl.h>

#include <cstring>

#include "core/cuda/check.h"
#include "core/error.h"
#include "distributed/nccl_api.h"
#include "distributed/world.h"

#define TA_NCCL_CHECK(call)                                                                              \
  do {                                                                                                   \
    ncclResult_t ta_nccl_status_ = (call);                                                               \
    if (ta_nccl_status_ != ncclSuccess)                                                                  \
      throw ::ta::Error(::ta::cat("nccl: ", #call, " failed at ", __FILE__, ":", __LINE__, ": ",          \
                                  ncclGetErrorString(ta_nccl_status_)));                                 \
  } while (0)

namespace ta::dist {

namespace {

static_assert(sizeof(ncclUniqueId) == sizeof(NcclApi::UniqueId), "NcclApi::UniqueId must hold an ncclUniqueId");

// The CUDA backend queues everything on the legacy default stream.
const cudaStream_t kComputeStream = cudaStreamLegacy;

class CudaNccl final : public NcclApi {
 public:
  ~CudaNccl() override {
    // Destructors do not throw: a failure here is reported by nothing, as in CUDA's own teardown.
    if (comm_) (void)ncclCommDestroy(comm_);
    if (packed_) (void)cudaEventDestroy(packed_);
    if (reduced_) (void)cudaEventDestroy(reduced_);
    if (stream_) (void)cudaStreamDestroy(stream_);
  }

  UniqueId unique_id() override {
    ncclUniqueId id;
    TA_NCCL_CHECK(ncclGetUniqueId(&id));
    UniqueId bytes;
    std::memcpy(bytes.data(), &id, sizeof id);
    return bytes;
  }

  void init(int world, const UniqueId& bytes, int rank) override {
    TA_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    TA_CUDA_CHECK(cudaEventCreateWithFlags(&packed_, cudaEventDisableTiming));
    TA_CUDA_CHECK(cudaEventCreateWithFlags(&reduced_, cudaEventDisableTiming));
    ncclUniqueId id;
    std::memcpy(&id, bytes.data(), sizeof id);
    TA_NCCL_CHECK(ncclCommInitRank(&comm_, world, id, rank));
  }

  void all_reduce_sum(float* data, int64_t n) override {
    after_compute();
    TA_NCCL_CHECK(ncclAllReduce(data, data, static_cast<size_t>(n), ncclFloat, ncclSum, comm_, stream_));
  }

  void broadcast(float* data, int64_t n) override {
    after_compute();
    TA_NCCL_CHECK(ncclBroadcast(data, data, static_cast<size_t>(n), ncclFloat, 0, comm_, stream_));
  }

  void compute_waits_for_communication() override {
    TA_CUDA_CHECK(cudaEventRecord(reduced_, stream_));
    TA_CUDA_CHECK(cudaStreamWaitEvent(kComputeStream, reduced_, 0));
  }

 private:
  // The communication stream waits for the work queued so far on the compute stream.
  void after_compute() {
    TA_CUDA_CHECK(cudaEventRecord(packed_, kComputeStream));
    TA_CUDA_CHECK(cudaStreamWaitEvent(stream_, packed_, 0));
  }

  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
  cudaEvent_t packed_ = nullptr, reduced_ = nullptr;
};

}  // namespace

std::unique_ptr<NcclApi> make_nccl_api() { return std::make_unique<CudaNccl>(); }

void bind_local_gpu() {
  int count = 0;
  TA_CUDA_CHECK(cudaGetDeviceCount(&count));
  TA_CHECK(count > 0, "bind_local_gpu: this machine has no GPU");
  TA_CUDA_CHECK(cudaSetDevice(local_rank() % count));
}

}  // namespace ta::dist

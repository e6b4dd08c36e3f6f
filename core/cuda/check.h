// core/cuda/check.h — every CUDA runtime and cuBLAS call is checked: a failure
// throws ta::Error naming the call, the file and line, and CUDA's own message.
//
//   TA_CUDA_CHECK(cudaMemcpy(...));
//   kernel<<<grid, block>>>(...); TA_CUDA_CHECK_LAUNCH();   (core/cuda/launch.h does this)
//   TA_CUBLAS_CHECK(cublasSgemm(...));
//
// Kernels run asynchronously: an error inside one surfaces at the next checked
// call that waits for the device (a copy to the host, for instance).
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "core/error.h"

namespace ta::cuda {

[[noreturn]] inline void throw_cuda_error(const char* what, const char* message, const char* file, int line) {
  throw Error(cat("cuda: ", what, " failed at ", file, ":", line, ": ", message));
}

}  // namespace ta::cuda

#define TA_CUDA_CHECK(call)                                                                    \
  do {                                                                                         \
    cudaError_t ta_cuda_status_ = (call);                                                      \
    if (ta_cuda_status_ != cudaSuccess)                                                        \
      ::ta::cuda::throw_cuda_error(#call, cudaGetErrorString(ta_cuda_status_), __FILE__, __LINE__); \
  } while (0)

// After a <<<>>> launch: a bad configuration (too many threads, too much shared
// memory) is reported here, synchronously.
#define TA_CUDA_CHECK_LAUNCH() TA_CUDA_CHECK(cudaGetLastError())

#define TA_CUBLAS_CHECK(call)                                                                        \
  do {                                                                                               \
    cublasStatus_t ta_cublas_status_ = (call);                                                       \
    if (ta_cublas_status_ != CUBLAS_STATUS_SUCCESS)                                                  \
      ::ta::cuda::throw_cuda_error(#call, cublasGetStatusString(ta_cublas_status_), __FILE__, __LINE__); \
  } while (0)

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

// Runs `call` (written `text`), whose result is a status of type Status; anything but
// `ok` throws, with the status's own message from describe(status). The callers
// stringize the call themselves, before cuBLAS's macros (cublasSgemm ->
// cublasSgemm_v2) rename it.
#define TA_CUDA_STATUS_CHECK(call, text, Status, ok, describe)                             \
  do {                                                                                     \
    Status ta_cuda_status_ = (call);                                                       \
    if (ta_cuda_status_ != (ok))                                                           \
      ::ta::cuda::throw_cuda_error(text, describe(ta_cuda_status_), __FILE__, __LINE__);   \
  } while (0)

#define TA_CUDA_CHECK(call) TA_CUDA_STATUS_CHECK(call, #call, cudaError_t, cudaSuccess, cudaGetErrorString)

// After a <<<>>> launch: a bad configuration (too many threads, too much shared
// memory) is reported here, synchronously.
#define TA_CUDA_CHECK_LAUNCH() TA_CUDA_CHECK(cudaGetLastError())

#define TA_CUBLAS_CHECK(call) \
  TA_CUDA_STATUS_CHECK(call, #call, cublasStatus_t, CUBLAS_STATUS_SUCCESS, cublasGetStatusString)

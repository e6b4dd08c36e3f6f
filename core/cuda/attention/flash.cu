// core/cuda/attention/flash.cu — FLASH attention and the GAU's scale-offset on the GPU: the launch
// plans of core/cuda/attention/kernels/flash.cuh, started by the backend's checked launcher, with
// scratch memory from this backend's caching allocator.
#include "core/cuda/attention/kernels/flash.cuh"
#include "core/cuda/cuda_backend.h"
#include "core/cuda/launch.h"

namespace ta::cuda {

void CudaBackend::flash_forward(const FlashDims& dims, const FlashOptions& options, const float* qk, const float* v,
                                const float* rel_bias, const float* key_pad, float* out, float* state) {
  cuda_kernels::flash_forward(Launcher{}, *this, dims, options, qk, v, rel_bias, key_pad, out, state);
}

void CudaBackend::flash_backward(const FlashDims& dims, const FlashOptions& options, const float* qk, const float* v,
                                 const float* rel_bias, const float* key_pad, const float* state, const float* d_out,
                                 float* dqk, float* dv, float* drel_bias) {
  cuda_kernels::flash_backward(Launcher{}, *this, dims, options, qk, v, rel_bias, key_pad, state, d_out, dqk, dv,
                               drel_bias);
}

void CudaBackend::scale_offset(const float* z, const float* gamma, const float* beta, float* y, int64_t rows,
                               int64_t planes, int64_t s) {
  cuda_kernels::scale_offset(Launcher{}, z, gamma, beta, y, rows, planes, s);
}

void CudaBackend::scale_offset_backward(const float* z, const float* gamma, const float* dy, float* dz,
                                        float* dgamma, float* dbeta, int64_t rows, int64_t planes, int64_t s) {
  cuda_kernels::scale_offset_backward(Launcher{}, z, gamma, dy, dz, dgamma, dbeta, rows, planes, s);
}

}  // namespace ta::cuda

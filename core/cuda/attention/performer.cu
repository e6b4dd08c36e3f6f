// core/cuda/attention/performer.cu — fused causal FAVOR+ attention on the GPU: the launch plans of
// core/cuda/attention/kernels/performer.cuh, started by the backend's checked launcher, with the
// per-head scratch from this backend's caching allocator.
#include "core/cuda/attention/kernels/performer.cuh"
#include "core/cuda/cuda_backend.h"
#include "core/cuda/launch.h"

namespace ta::cuda {

void CudaBackend::favor_causal_forward(const float* q, const float* k, const float* v, const float* w, float* o,
                                       float* den, float* kmax, int64_t bh, int64_t heads, int64_t n_q, int64_t n_k,
                                       int64_t d, int64_t m, float scale, FavorKernel kernel, const float* key_pad) {
  cuda_kernels::favor_causal_forward(
      Launcher{}, *this, {q, k, v, w, key_pad, bh, heads, n_q, n_k, d, m, scale, kernel == FavorKernel::Relu}, o, den,
      kmax);
}

void CudaBackend::favor_causal_backward(const float* q, const float* k, const float* v, const float* w,
                                        const float* o, const float* den, const float* kmax, const float* d_o,
                                        float* dq, float* dk, float* dv, int64_t bh, int64_t heads, int64_t n_q,
                                        int64_t n_k, int64_t d, int64_t m, float scale, FavorKernel kernel,
                                        const float* key_pad) {
  cuda_kernels::favor_causal_backward(
      Launcher{}, *this, {q, k, v, w, key_pad, bh, heads, n_q, n_k, d, m, scale, kernel == FavorKernel::Relu}, o, den,
      kmax, d_o, dq, dk, dv);
}

}  // namespace ta::cuda

// core/cuda/attention/dense.cu — fused exact softmax attention on the GPU: the launch plans
// of core/cuda/attention/kernels/dense.cuh, started by the backend's checked launcher.
#include "core/cuda/attention/kernels/dense.cuh"
#include "core/cuda/cuda_backend.h"
#include "core/cuda/launch.h"

namespace ta::cuda {

void CudaBackend::attention_forward(const float* q, const float* k, const float* v, float* o, float* lse, int64_t bh,
                                    int64_t heads, int64_t n_q, int64_t n_k, int64_t d, float scale, Causality causal,
                                    const float* key_pad) {
  cuda_kernels::attention_forward(
      Launcher{}, {q, k, v, key_pad, bh, heads, n_q, n_k, d, scale, causal == Causality::Causal}, o, lse);
}

void CudaBackend::attention_backward(const float* q, const float* k, const float* v, const float* o, const float* lse,
                                     const float* d_o, float* dq, float* dk, float* dv, int64_t bh, int64_t heads,
                                     int64_t n_q, int64_t n_k, int64_t d, float scale, Causality causal,
                                     const float* key_pad) {
  cuda_kernels::attention_backward(Launcher{},
                                   {q, k, v, key_pad, bh, heads, n_q, n_k, d, scale, causal == Causality::Causal}, o,
                                   lse, d_o, dq, dk, dv);
}

}  // namespace ta::cuda

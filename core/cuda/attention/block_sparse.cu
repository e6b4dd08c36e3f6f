// core/cuda/attention/block_sparse.cu — block-sparse attention on the GPU: the launch
// plans of core/cuda/attention/kernels/block_sparse.cuh, started by the backend's
// checked launcher. The layout is packed and copied to device memory on every call,
// through this backend's caching allocator (block_sparse_layout.cuh says why).
#include "core/cuda/attention/kernels/block_sparse.cuh"
#include "core/cuda/cuda_backend.h"
#include "core/cuda/launch.h"

namespace ta::cuda {

void CudaBackend::block_sparse_attention_forward(const float* q, const float* k, const float* v, float* o,
                                                 float* lse, int64_t bh, int64_t heads, int64_t n_q, int64_t n_k,
                                                 int64_t d, float scale, const BlockSparseLayout& layout,
                                                 const float* key_pad) {
  cuda_kernels::block_sparse_attention_forward(Launcher{}, *this,
                                               {q, k, v, key_pad, bh, heads, n_q, n_k, d, scale, false}, layout, o,
                                               lse);
}

void CudaBackend::block_sparse_attention_backward(const float* q, const float* k, const float* v, const float* o,
                                                  const float* lse, const float* d_o, float* dq, float* dk, float* dv,
                                                  int64_t bh, int64_t heads, int64_t n_q, int64_t n_k, int64_t d,
                                                  float scale, const BlockSparseLayout& layout,
                                                  const float* key_pad) {
  cuda_kernels::block_sparse_attention_backward(Launcher{}, *this,
                                                {q, k, v, key_pad, bh, heads, n_q, n_k, d, scale, false}, layout, o,
                                                lse, d_o, dq, dk, dv);
}

}  // namespace ta::cuda

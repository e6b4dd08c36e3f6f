// core/cuda/index.cu — indexing along an axis on the GPU (index.cuh).
#include "core/cuda/cuda_backend.h"
#include "core/cuda/kernels/index.cuh"
#include "core/cuda/launch.h"

namespace ta::cuda {

namespace k = cuda_kernels;

void CudaBackend::index_select(const float* x, const float* index, float* y, int64_t outer, int64_t n_src,
                               int64_t n_index, int64_t inner) {
  k::index_select(Launcher{}, x, index, y, outer, n_src, n_index, inner);
}

void CudaBackend::index_add(const float* dy, const float* index, float* dx, int64_t outer, int64_t n_dst,
                            int64_t n_index, int64_t inner) {
  k::index_add(Launcher{}, dy, index, dx, outer, n_dst, n_index, inner);
}

void CudaBackend::gather(const float* x, const float* index, float* y, int64_t outer, int64_t n_src, int64_t n_index,
                         int64_t inner) {
  k::gather(Launcher{}, x, index, y, outer, n_src, n_index, inner);
}

void CudaBackend::scatter_add(const float* dy, const float* index, float* dx, int64_t outer, int64_t n_dst,
                              int64_t n_index, int64_t inner) {
  k::scatter_add(Launcher{}, dy, index, dx, outer, n_dst, n_index, inner);
}

}  // namespace ta::cuda

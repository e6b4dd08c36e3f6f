// core/cuda/movement.cu — moving data on the GPU: permute and accumulate_rows
// (movement.cuh); plain copies are cudaMemcpy calls (device.cpp).
#include "core/cuda/cuda_backend.h"
#include "core/cuda/kernels/movement.cuh"
#include "core/cuda/launch.h"

namespace ta::cuda {

namespace k = cuda_kernels;

void CudaBackend::permute(const float* x, float* y, const Shape& x_shape, const int* perm) {
  k::permute(Launcher{}, x, y, x_shape, perm);
}

void CudaBackend::accumulate_rows(const float* src, int64_t src_stride, float* dst, int64_t dst_stride,
                                  int64_t rows, int64_t row_len) {
  k::accumulate_rows(Launcher{}, src, src_stride, dst, dst_stride, rows, row_len);
}

}  // namespace ta::cuda

// core/cuda/kernels/movement.cuh — moving data: permuting dimensions, and adding a
// block of rows into another (accumulate_rows; copying one is cudaMemcpy2D's job:
// core/cuda/device.cpp). One thread per element written.
#pragma once

#include <cstdint>

#include "core/cuda/device_compat.h"
#include "core/cuda/kernels/grid.cuh"
#include "core/shape.h"

namespace ta::cuda_kernels {

// y's dimension d is x's dimension perm[d]: y's shape, and for each of y's
// dimensions the stride of x that steps along it.
struct PermutePlan {
  int ndim;
  int64_t shape[kMaxDims];
  int64_t source_stride[kMaxDims];
};

// y[i] = x[sum_d coord_d(i) source_stride_d], walking y in order.
__global__ inline void permute_kernel(const float* x, float* y, PermutePlan plan, int64_t n) {
  for (int64_t i = grid_first(); i < n; i += grid_step()) {
    int64_t rest = i, at = 0;
    for (int d = plan.ndim - 1; d >= 0; --d) {
      at += (rest % plan.shape[d]) * plan.source_stride[d];
      rest /= plan.shape[d];
    }
    y[i] = x[at];
  }
}

// dst[r, c] += src[r, c] over a rows x row_len block of two row-strided buffers; i
// counts the block's n = rows x row_len elements row by row.
__global__ inline void accumulate_rows_kernel(const float* src, int64_t src_stride, float* dst,
                                              int64_t dst_stride, int64_t row_len, int64_t n) {
  for (int64_t i = grid_first(); i < n; i += grid_step()) {
    const int64_t r = i / row_len, c = i % row_len;
    dst[r * dst_stride + c] += src[r * src_stride + c];
  }
}

// ---- launch plans ------------------------------------------------------------------

template <class Launch>
void permute(const Launch& launch, const float* x, float* y, const Shape& x_shape, const int* perm) {
  PermutePlan plan{};
  plan.ndim = x_shape.ndim();
  const Dims x_strides = contiguous_strides(x_shape);
  for (int d = 0; d < plan.ndim; ++d) {
    plan.shape[d] = x_shape[perm[d]];
    plan.source_stride[d] = x_strides[perm[d]];
  }
  const int64_t n = x_shape.numel();
  launch(permute_kernel, blocks_for(n), kThreads, 0, x, y, plan, n);
}

template <class Launch>
void accumulate_rows(const Launch& launch, const float* src, int64_t src_stride, float* dst, int64_t dst_stride,
                     int64_t rows, int64_t row_len) {
  const int64_t n = rows * row_len;
  launch(accumulate_rows_kernel, blocks_for(n), kThreads, 0, src, src_stride, dst, dst_stride, row_len, n);
}

}  // namespace ta::cuda_kernels

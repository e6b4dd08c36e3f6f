// core/cuda/kernels/index.cuh — indexing along one axis of [outer, n, inner]. Index
// values arrive as floats already checked (whole numbers in range) by
// core/kernels/index.cpp. One thread per element read or written.
//
// The two "add" kernels may see several j name the same destination, so they add
// with atomicAdd: the sums are those of the CPU backend up to the order of the
// additions (float rounding).
#pragma once

#include <cstdint>

#include "core/cuda/device_compat.h"
#include "core/cuda/kernels/grid.cuh"

namespace ta::cuda_kernels {

// Element t of [outer, m, inner] as (o, j, k).
struct AxisCoords {
  int64_t o, j, k;
  __device__ AxisCoords(int64_t t, int64_t m, int64_t inner) : o(t / inner / m), j(t / inner % m), k(t % inner) {}
};

// y[o, j, k] = x[o, index[j], k]
__global__ inline void index_select_kernel(const float* x, const float* index, float* y, int64_t outer, int64_t n_src,
                                           int64_t n_index, int64_t inner) {
  for (int64_t t = grid_first(); t < outer * n_index * inner; t += grid_step()) {
    const AxisCoords c(t, n_index, inner);
    y[t] = x[(c.o * n_src + static_cast<int64_t>(index[c.j])) * inner + c.k];
  }
}

// dx[o, index[j], k] += dy[o, j, k]
__global__ inline void index_add_kernel(const float* dy, const float* index, float* dx, int64_t outer, int64_t n_dst,
                                        int64_t n_index, int64_t inner) {
  for (int64_t t = grid_first(); t < outer * n_index * inner; t += grid_step()) {
    const AxisCoords c(t, n_index, inner);
    atomicAdd(&dx[(c.o * n_dst + static_cast<int64_t>(index[c.j])) * inner + c.k], dy[t]);
  }
}

// y[o, j, k] = x[o, index[o, j, k], k]
__global__ inline void gather_kernel(const float* x, const float* index, float* y, int64_t outer, int64_t n_src,
                                     int64_t n_index, int64_t inner) {
  for (int64_t t = grid_first(); t < outer * n_index * inner; t += grid_step()) {
    const AxisCoords c(t, n_index, inner);
    y[t] = x[(c.o * n_src + static_cast<int64_t>(index[t])) * inner + c.k];
  }
}

// dx[o, index[o, j, k], k] += dy[o, j, k]
__global__ inline void scatter_add_kernel(const float* dy, const float* index, float* dx, int64_t outer,
                                          int64_t n_dst, int64_t n_index, int64_t inner) {
  for (int64_t t = grid_first(); t < outer * n_index * inner; t += grid_step()) {
    const AxisCoords c(t, n_index, inner);
    atomicAdd(&dx[(c.o * n_dst + static_cast<int64_t>(index[t])) * inner + c.k], dy[t]);
  }
}

// ---- launch plans ------------------------------------------------------------------

template <class Launch>
void index_select(const Launch& launch, const float* x, const float* index, float* y, int64_t outer, int64_t n_src,
                  int64_t n_index, int64_t inner) {
  launch(index_select_kernel, blocks_for(outer * n_index * inner), kThreads, 0, x, index, y, outer, n_src, n_index,
         inner);
}

template <class Launch>
void index_add(const Launch& launch, const float* dy, const float* index, float* dx, int64_t outer, int64_t n_dst,
               int64_t n_index, int64_t inner) {
  launch(index_add_kernel, blocks_for(outer * n_index * inner), kThreads, 0, dy, index, dx, outer, n_dst, n_index,
         inner);
}

template <class Launch>
void gather(const Launch& launch, const float* x, const float* index, float* y, int64_t outer, int64_t n_src,
            int64_t n_index, int64_t inner) {
  launch(gather_kernel, blocks_for(outer * n_index * inner), kThreads, 0, x, index, y, outer, n_src, n_index, inner);
}

template <class Launch>
void scatter_add(const Launch& launch, const float* dy, const float* index, float* dx, int64_t outer, int64_t n_dst,
                 int64_t n_index, int64_t inner) {
  launch(scatter_add_kernel, blocks_for(outer * n_index * inner), kThreads, 0, dy, index, dx, outer, n_dst, n_index,
         inner);
}

}  // namespace ta::cuda_kernels

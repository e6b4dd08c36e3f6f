// core/cuda/kernels/optim.cuh — optimizer updates in place, one thread per parameter
// element (the steps are core/optimizer_math.h, shared with the CPU), and the sum of
// squares of a buffer for gradient clipping, as per-block partial sums.
#pragma once

#include <cstdint>

#include "core/cuda/device_compat.h"
#include "core/cuda/kernels/block_reduce.cuh"
#include "core/cuda/kernels/grid.cuh"
#include "core/optimizer_math.h"

namespace ta::cuda_kernels {

__global__ inline void sgd_kernel(float* p, const float* g, float* buf, int64_t n, SgdHyper h) {
  for (int64_t i = grid_first(); i < n; i += grid_step()) sgd_step(i, p, g, buf, h);
}

__global__ inline void adam_kernel(float* p, const float* g, float* m, float* v, int64_t n, AdamHyper h) {
  for (int64_t i = grid_first(); i < n; i += grid_step()) adam_step(i, p, g, m, v, h);
}

// partial[b] = sum of x_i^2 over the items of block b's grid-stride loop, in double.
// The caller adds the partials in block order, so the total does not depend on
// the scheduling of blocks.
__global__ inline void sum_of_squares_kernel(const float* x, int64_t n, double* partial) {
  double s = 0.0;
  for (int64_t i = grid_first(); i < n; i += grid_step()) s += static_cast<double>(x[i]) * x[i];
  s = block_reduce(s, SumOp());
  if (threadIdx.x == 0) partial[blockIdx.x] = s;
}

// ---- launch plans ------------------------------------------------------------------

template <class Launch>
void sgd_update(const Launch& launch, float* p, const float* g, float* buf, int64_t n, const SgdHyper& h) {
  launch(sgd_kernel, blocks_for(n), kThreads, 0, p, g, buf, n, h);
}

template <class Launch>
void adam_update(const Launch& launch, float* p, const float* g, float* m, float* v, int64_t n, const AdamHyper& h) {
  launch(adam_kernel, blocks_for(n), kThreads, 0, p, g, m, v, n, h);
}

// How many partial sums sum_of_squares_partials writes for n values.
inline int64_t sum_of_squares_blocks(int64_t n) {
  const int64_t blocks = (n + kThreads - 1) / kThreads;
  return blocks < 1 ? 1 : (blocks < 1024 ? blocks : 1024);
}

template <class Launch>
void sum_of_squares_partials(const Launch& launch, const float* x, int64_t n, double* partial) {
  launch(sum_of_squares_kernel, dim3(static_cast<unsigned>(sum_of_squares_blocks(n))), kThreads, 0, x, n, partial);
}

}  // namespace ta::cuda_kernels

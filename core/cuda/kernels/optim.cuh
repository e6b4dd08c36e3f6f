// core/cuda/kernels/optim.cuh — optimizer updates in place, one thread per parameter
// element (the steps are core/optimizer_math.h, shared with the CPU). The sum of
// squares for gradient clipping is a reduction: reduce.cuh.
#pragma once

#include <cstdint>

#include "core/cuda/device_compat.h"
#include "core/cuda/kernels/grid.cuh"
#include "core/optimizer_math.h"

namespace ta::cuda_kernels {

__global__ inline void sgd_kernel(float* p, const float* g, float* buf, int64_t n, SgdHyper h) {
  for (int64_t i = grid_first(); i < n; i += grid_step()) sgd_step(i, p, g, buf, h);
}

__global__ inline void adam_kernel(float* p, const float* g, float* m, float* v, int64_t n, AdamHyper h) {
  for (int64_t i = grid_first(); i < n; i += grid_step()) adam_step(i, p, g, m, v, h);
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

}  // namespace ta::cuda_kernels

// core/cuda/kernels/creation.cuh — filling buffers: constants, ranges and Philox
// random numbers (the same numbers as the CPU backend: core/philox.h).
#pragma once

#include <cstdint>

#include "core/cuda/device_compat.h"
#include "core/cuda/kernels/grid.cuh"
#include "core/philox.h"

namespace ta::cuda_kernels {

__global__ inline void fill_kernel(float* out, int64_t n, float value) {
  for (int64_t i = grid_first(); i < n; i += grid_step()) out[i] = value;
}

// out[i] = start + step i, computed in double as the CPU backend does, so that long
// ranges do not drift.
__global__ inline void arange_kernel(float* out, int64_t n, float start, float step) {
  for (int64_t i = grid_first(); i < n; i += grid_step())
    out[i] = static_cast<float>(start + static_cast<double>(step) * static_cast<double>(i));
}

// Element i uses counter offset + i: its value depends on nothing else.
__global__ inline void random_uniform_kernel(float* out, int64_t n, uint64_t seed, uint64_t offset, float lo,
                                             float hi) {
  for (int64_t i = grid_first(); i < n; i += grid_step())
    out[i] = philox_uniform(seed, offset + static_cast<uint64_t>(i), lo, hi);
}

__global__ inline void random_normal_kernel(float* out, int64_t n, uint64_t seed, uint64_t offset, float mean,
                                            float std) {
  for (int64_t i = grid_first(); i < n; i += grid_step())
    out[i] = philox_normal(seed, offset + static_cast<uint64_t>(i), mean, std);
}

// ---- launch plans (the launcher is ta::cuda::Launcher on the GPU, simt::Launcher in tests)

template <class Launch>
void fill(const Launch& launch, float* out, int64_t n, float value) {
  launch(fill_kernel, blocks_for(n), kThreads, 0, out, n, value);
}

template <class Launch>
void arange(const Launch& launch, float* out, int64_t n, float start, float step) {
  launch(arange_kernel, blocks_for(n), kThreads, 0, out, n, start, step);
}

template <class Launch>
void random_uniform(const Launch& launch, float* out, int64_t n, uint64_t seed, uint64_t offset, float lo, float hi) {
  launch(random_uniform_kernel, blocks_for(n), kThreads, 0, out, n, seed, offset, lo, hi);
}

template <class Launch>
void random_normal(const Launch& launch, float* out, int64_t n, uint64_t seed, uint64_t offset, float mean,
                   float std) {
  launch(random_normal_kernel, blocks_for(n), kThreads, 0, out, n, seed, offset, mean, std);
}

}  // namespace ta::cuda_kernels

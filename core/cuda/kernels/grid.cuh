// core/cuda/kernels/grid.cuh — launch geometry shared by the kernels.
//
// Most kernels use grid-stride loops: thread g of G handles items g, g + G,
// g + 2G, ..., so any grid covers any n and the grid can stay capped.
#pragma once

#include <cstdint>

#include "core/cuda/device_compat.h"

namespace ta::cuda_kernels {

constexpr int kThreads = 256;          // threads per block, unless a kernel says otherwise
constexpr int64_t kMaxBlocks = 4096;   // enough blocks to fill any current GPU
constexpr int kWarpSize = 32;

// Blocks of `threads` to cover n items, at most kMaxBlocks (0 when n is 0).
inline dim3 blocks_for(int64_t n, int threads = kThreads) {
  int64_t blocks = (n + threads - 1) / threads;
  return dim3(static_cast<unsigned>(blocks < kMaxBlocks ? blocks : kMaxBlocks));
}

// Threads for one block walking a line of n values together: whole warps, enough
// for n, at most kThreads.
inline int threads_for_line(int64_t n) {
  int64_t warps = (n + kWarpSize - 1) / kWarpSize;
  int64_t threads = (warps < 1 ? 1 : warps) * kWarpSize;
  return static_cast<int>(threads < kThreads ? threads : kThreads);
}

// The first item of this thread in a grid-stride loop, and the loop's step.
__device__ __forceinline__ int64_t grid_first() {
  return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ __forceinline__ int64_t grid_step() { return static_cast<int64_t>(gridDim.x) * blockDim.x; }

}  // namespace ta::cuda_kernels

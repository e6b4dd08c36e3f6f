// core/cuda/kernels/block_reduce.cuh — one value per thread in, the sum (or max)
// over the whole block out, to every thread.
//
// Two stages: each warp combines its 32 values by shuffles (after the steps
// 16, 8, 4, 2, 1, lane 0 holds the warp's result), warp leaders leave their results
// in shared memory, and warp 0 combines those the same way. Every thread of the
// block must call it (it contains barriers); blockDim.x a multiple of 32.
#pragma once

#include "core/cuda/device_compat.h"
#include "core/cuda/kernels/grid.cuh"

namespace ta::cuda_kernels {

struct SumOp {
  template <class T>
  __device__ T operator()(T a, T b) const { return a + b; }
  template <class T>
  __device__ static T identity() { return T(0); }
};

// max that propagates NaN from either side, like the CPU backend's reductions.
struct MaxOp {
  template <class T>
  __device__ T operator()(T a, T b) const { return (b > a || b != b) ? b : a; }
  template <class T>
  __device__ static T identity() { return -INFINITY; }
};

template <class T, class Op>
__device__ T warp_reduce(T v, Op op) {
  for (int offset = kWarpSize / 2; offset > 0; offset /= 2) v = op(v, __shfl_down_sync(0xffffffffu, v, offset));
  return v;
}

template <class T, class Op>
__device__ T block_reduce(T v, Op op) {
  __shared__ T warp_results[kWarpSize];
  __shared__ T result;
  const int lane = threadIdx.x % kWarpSize, warp = threadIdx.x / kWarpSize;
  const int warps = (blockDim.x + kWarpSize - 1) / kWarpSize;
  v = warp_reduce(v, op);
  if (lane == 0) warp_results[warp] = v;
  __syncthreads();
  if (warp == 0) {
    v = warp_reduce(lane < warps ? warp_results[lane] : Op::template identity<T>(), op);
    if (lane == 0) result = v;
  }
  __syncthreads();
  T total = result;
  __syncthreads();  // everyone has read `result` before a next call may overwrite it
  return total;
}

}  // namespace ta::cuda_kernels

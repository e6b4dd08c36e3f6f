// core/cuda/attention/kernels/tile_math.cuh — block-level building blocks of the fused attention
// kernels: a matrix product computed by all the threads of a block, views that read a
// buffer as a matrix or as its transpose, row gathers into shared memory, and the
// tile size that fits a kernel's shared memory.
//
// The product is written for reading, not for peak speed: each thread computes whole
// output entries (entries threadIdx.x, threadIdx.x + blockDim.x, ...), a dot product
// over K read through the two operand views, and hands each one to an `out(r, c, x)`
// callback (store, accumulate, scale, or add atomically to global memory). The
// kernels load their operands into shared memory first, so the K-loop reads shared
// memory. Nothing here synchronizes: callers meet at __syncthreads() before a product
// (operands ready) and after it (result ready).
#pragma once

#include "core/cuda/device_compat.h"
#include "core/cuda/kernels/grid.cuh"

#include <cstdint>

namespace ta::cuda_kernels {

// Threads per block of the fused kernels. They work for any block size (every loop
// strides by blockDim.x); the tests also run them with other sizes.
constexpr int kFusedThreads = 128;

// Shared memory a kernel may use without opting in to more (cudaFuncSetAttribute).
constexpr int64_t kSharedMemoryBytes = 48 * 1024;

__device__ __forceinline__ int64_t min_of(int64_t a, int64_t b) { return a < b ? a : b; }

// X[r][c] = p[r * ld + c]
struct RowMajor {
  const float* p;
  int64_t ld;
  __device__ __forceinline__ float operator()(int64_t r, int64_t c) const { return p[r * ld + c]; }
};

// The transpose of a row-major buffer: X[r][c] = p[c * ld + r]
struct Transposed {
  const float* p;
  int64_t ld;
  __device__ __forceinline__ float operator()(int64_t r, int64_t c) const { return p[c * ld + r]; }
};

// For r < M, c < N: out(r, c, sum over k < K with keep(r, k) of a(r, k) b(k, c)). A
// term keep() rejects is skipped, not multiplied by 0: attention hides a key from a
// query this way, so that a NaN or inf in it cannot reach the query's sum (IEEE:
// 0 x NaN = NaN; core/cpu/attention/masked_tiles.h says more).
template <class A, class B, class Keep, class Out>
__device__ void block_matmul_where(int64_t M, int64_t N, int64_t K, A a, B b, Keep keep, Out out) {
  for (int64_t idx = threadIdx.x; idx < M * N; idx += blockDim.x) {
    const int64_t r = idx / N, c = idx % N;
    float sum = 0.0f;
    for (int64_t k = 0; k < K; ++k)
      if (keep(r, k)) sum += a(r, k) * b(k, c);
    out(r, c, sum);
  }
}

// For r < M, c < N: out(r, c, sum_{k < K} a(r, k) b(k, c)).
template <class A, class B, class Out>
__device__ void block_matmul(int64_t M, int64_t N, int64_t K, A a, B b, Out out) {
  block_matmul_where(M, N, K, a, b, [](int64_t, int64_t) { return true; }, out);
}

// Whether x[0 .. n) is all zero (either sign), to every thread of the block (it
// contains barriers: every thread must call it).
__device__ inline bool block_all_zero(const float* x, int64_t n) {
  __shared__ int nonzero;
  if (threadIdx.x == 0) nonzero = 0;
  __syncthreads();
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x)
    if (x[i] != 0.0f) atomicMax(&nonzero, 1);
  __syncthreads();
  const bool zero = nonzero == 0;
  __syncthreads();  // everyone has read it before a next call resets it
  return zero;
}

// tile[r * width + c] = x[row_of(r) * width + c] for r < rows: rows of x gathered
// (or, with row_of(r) = first + r, copied) into a tile.
template <class RowOf>
__device__ void load_rows(float* tile, const float* x, int64_t rows, int64_t width, RowOf row_of) {
  for (int64_t idx = threadIdx.x; idx < rows * width; idx += blockDim.x) {
    const int64_t r = idx / width, c = idx % width;
    tile[idx] = x[row_of(r) * width + c];
  }
}

// p[i] = value for i < n, by all the threads of a block.
__device__ __forceinline__ void block_fill(float* p, int64_t n, float value) {
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) p[i] = value;
}

// p[i] = 0 for i < n: the buffers that kernels accumulate into (atomically) start here.
__global__ inline void zero_kernel(float* p, int64_t n) {
  for (int64_t i = grid_first(); i < n; i += grid_step()) p[i] = 0.0f;
}

// The largest tile height T in 64, 32, ..., 1 (at most max_rows) whose shared memory,
// floats(T) floats, fits in kSharedMemoryBytes; 0 when not even T = 1 fits.
template <class Floats>
int fit_tile_rows(Floats floats, int max_rows = 64) {
  for (int t = 64; t >= 1; t /= 2)
    if (t <= max_rows && floats(t) * static_cast<int64_t>(sizeof(float)) <= kSharedMemoryBytes) return t;
  return 0;
}

}  // namespace ta::cuda_kernels

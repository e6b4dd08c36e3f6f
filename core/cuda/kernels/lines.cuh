// core/cuda/kernels/lines.cuh — kernels that work along one axis of [outer, n, inner]
// (reductions, softmax, norms, losses) see the tensor as outer * inner lines of n
// values: line l = o * inner + k holds x[o, i, k] for i < n, at stride `inner`
// from o * n * inner + k.
//
// A line is walked in one of two ways, and each line operation is written once for
// both (a template over the walk):
// - by a whole block, when lines are contiguous (inner == 1): the block's threads
//   take every blockDim.x-th value and combine their partial results with
//   block_reduce; one block per line, blocks striding over the lines.
// - by one thread, when lines are strided (inner > 1): neighbouring threads take
//   neighbouring lines, so their reads of x[o, i, k], x[o, i, k + 1], ... coalesce.
//
// A line operation is a struct holding its buffers, with
//   template <class Walk>
//   __device__ void operator()(const Walk& walk, int64_t line, int64_t base, int64_t stride) const;
// value i of the line sits at base + i * stride (see reduce.cuh for examples). In
// block mode every thread of the block makes the call, so the operation may use
// walk.combine (a block-wide reduction, with barriers) but must call it the same
// number of times on every thread.
#pragma once

#include <cstdint>

#include "core/cuda/device_compat.h"
#include "core/cuda/kernels/block_reduce.cuh"
#include "core/cuda/kernels/grid.cuh"

namespace ta::cuda_kernels {

// The whole block walks the line: this thread takes i = threadIdx.x, + blockDim.x, ...
struct BlockWalk {
  int64_t n;
  __device__ int64_t first() const { return threadIdx.x; }
  __device__ int64_t step() const { return blockDim.x; }
  // Combines every thread's partial result; all threads get the total.
  template <class T, class Op>
  __device__ T combine(T partial, Op op) const { return block_reduce(partial, op); }
  // Writes a line's single result once.
  __device__ bool leader() const { return threadIdx.x == 0; }
};

// One thread walks the whole line.
struct ThreadWalk {
  int64_t n;
  __device__ int64_t first() const { return 0; }
  __device__ int64_t step() const { return 1; }
  template <class T, class Op>
  __device__ T combine(T partial, Op) const { return partial; }
  __device__ bool leader() const { return true; }
};

// Where line l starts, and the stride between its values.
struct LineGeometry {
  int64_t n, inner;
  __device__ int64_t base(int64_t line) const { return (line / inner) * n * inner + line % inner; }
};

template <class LineOp>
__global__ void lines_by_block(LineOp op, int64_t lines, int64_t n) {
  const BlockWalk walk{n};
  for (int64_t line = blockIdx.x; line < lines; line += gridDim.x) op(walk, line, line * n, int64_t{1});
}

template <class LineOp>
__global__ void lines_by_thread(LineOp op, int64_t lines, LineGeometry g) {
  const ThreadWalk walk{g.n};
  for (int64_t line = grid_first(); line < lines; line += grid_step()) op(walk, line, g.base(line), g.inner);
}

// Runs op on every line of [outer, n, inner]: by blocks when inner == 1, else by threads.
template <class Launch, class LineOp>
void for_each_line(const Launch& launch, const LineOp& op, int64_t outer, int64_t n, int64_t inner) {
  const int64_t lines = outer * inner;
  if (inner == 1) {
    const int64_t blocks = lines < kMaxBlocks ? lines : kMaxBlocks;
    launch(lines_by_block<LineOp>, dim3(static_cast<unsigned>(blocks)), threads_for_line(n), 0, op, lines, n);
  } else {
    launch(lines_by_thread<LineOp>, blocks_for(lines), kThreads, 0, op, lines, LineGeometry{n, inner});
  }
}

// Runs op on every line, one thread per line whatever the layout (for scans, whose
// order matters).
template <class Launch, class LineOp>
void for_each_line_by_thread(const Launch& launch, const LineOp& op, int64_t outer, int64_t n, int64_t inner) {
  const int64_t lines = outer * inner;
  launch(lines_by_thread<LineOp>, blocks_for(lines), kThreads, 0, op, lines, LineGeometry{n, inner});
}

}  // namespace ta::cuda_kernels

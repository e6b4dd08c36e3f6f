// core/cuda/kernels/elementwise.cuh — unary ops and their derivatives, and the
// broadcasting kernels (binary ops, where, broadcast_to). One thread per output
// element, in grid-stride loops; the formulas are core/elementwise_math.h.
#pragma once

#include <cstdint>

#include "core/backend.h"
#include "core/cuda/device_compat.h"
#include "core/cuda/kernels/grid.cuh"
#include "core/elementwise_math.h"

namespace ta::cuda_kernels {

// A BroadcastPlan (core/backend.h) in plain arrays, as a kernel argument: the
// output shape and, per input, its stride along each output dimension (0 where it
// broadcasts).
struct ElementwisePlan {
  int ndim;
  int64_t shape[kMaxDims];
  int64_t strides[3][kMaxDims];
};

inline ElementwisePlan to_kernel_plan(const BroadcastPlan& plan) {
  ElementwisePlan p{};
  p.ndim = plan.ndim;
  for (int d = 0; d < plan.ndim; ++d) {
    p.shape[d] = plan.shape[d];
    for (int k = 0; k < 3; ++k) p.strides[k][d] = plan.strides[k][d];
  }
  return p;
}

// Where output element i reads each of the first N inputs: i's coordinates (last
// dimension fastest) dotted with that input's strides.
template <int N>
__device__ void input_offsets(const ElementwisePlan& plan, int64_t i, int64_t (&offset)[N]) {
  for (int k = 0; k < N; ++k) offset[k] = 0;
  for (int d = plan.ndim - 1; d >= 0; --d) {
    int64_t coord = i % plan.shape[d];
    i /= plan.shape[d];
    for (int k = 0; k < N; ++k) offset[k] += coord * plan.strides[k][d];
  }
}

__global__ inline void unary_kernel(UnaryOp op, const float* x, float* y, int64_t n, float param) {
  for (int64_t i = grid_first(); i < n; i += grid_step()) y[i] = unary_value(op, x[i], param);
}

// dx = dy f'(x), exactly 0 where dy is
__global__ inline void unary_backward_kernel(UnaryOp op, const float* x, const float* y, const float* dy, float* dx,
                                             int64_t n, float param) {
  for (int64_t i = grid_first(); i < n; i += grid_step())
    dx[i] = gradient_times(dy[i], unary_derivative(op, x[i], y[i], param));
}

__global__ inline void binary_kernel(BinaryOp op, const float* a, const float* b, float* out, ElementwisePlan plan,
                                     int64_t n) {
  for (int64_t i = grid_first(); i < n; i += grid_step()) {
    int64_t at[2];
    input_offsets(plan, i, at);
    out[i] = binary_value(op, a[at[0]], b[at[1]]);
  }
}

__global__ inline void where_kernel(const float* mask, const float* a, const float* b, float* out,
                                    ElementwisePlan plan, int64_t n) {
  for (int64_t i = grid_first(); i < n; i += grid_step()) {
    int64_t at[3];
    input_offsets(plan, i, at);
    out[i] = mask[at[0]] != 0.0f ? a[at[1]] : b[at[2]];
  }
}

__global__ inline void broadcast_kernel(const float* x, float* out, ElementwisePlan plan, int64_t n) {
  for (int64_t i = grid_first(); i < n; i += grid_step()) {
    int64_t at[1];
    input_offsets(plan, i, at);
    out[i] = x[at[0]];
  }
}

// ---- launch plans ------------------------------------------------------------------

template <class Launch>
void unary(const Launch& launch, UnaryOp op, const float* x, float* y, int64_t n, float param) {
  launch(unary_kernel, blocks_for(n), kThreads, 0, op, x, y, n, param);
}

template <class Launch>
void unary_backward(const Launch& launch, UnaryOp op, const float* x, const float* y, const float* dy, float* dx,
                    int64_t n, float param) {
  launch(unary_backward_kernel, blocks_for(n), kThreads, 0, op, x, y, dy, dx, n, param);
}

template <class Launch>
void binary(const Launch& launch, BinaryOp op, const float* a, const float* b, float* out, const BroadcastPlan& plan) {
  const int64_t n = plan.numel();
  launch(binary_kernel, blocks_for(n), kThreads, 0, op, a, b, out, to_kernel_plan(plan), n);
}

template <class Launch>
void where(const Launch& launch, const float* mask, const float* a, const float* b, float* out,
           const BroadcastPlan& plan) {
  const int64_t n = plan.numel();
  launch(where_kernel, blocks_for(n), kThreads, 0, mask, a, b, out, to_kernel_plan(plan), n);
}

template <class Launch>
void broadcast_to(const Launch& launch, const float* x, float* out, const BroadcastPlan& plan) {
  const int64_t n = plan.numel();
  launch(broadcast_kernel, blocks_for(n), kThreads, 0, x, out, to_kernel_plan(plan), n);
}

}  // namespace ta::cuda_kernels

// core/cuda/kernels/reduce.cuh — along one axis of [outer, n, inner]: reductions
// (sum, max, log-sum-exp), softmax and log-softmax with their backward, and
// cumulative sums. Each is one line operation (see lines.cuh); the results match the
// CPU backend's (core/cpu/reduce.cpp), including its handling of NaN and -inf.
#pragma once

#include <cstdint>

#include "core/backend.h"
#include "core/cuda/device_compat.h"
#include "core/cuda/kernels/lines.cuh"

namespace ta::cuda_kernels {

// max_i x_i over a line (NaN wins).
template <class Walk>
__device__ float line_max(const Walk& walk, const float* x, int64_t stride) {
  float m = -INFINITY;
  for (int64_t i = walk.first(); i < walk.n; i += walk.step()) m = MaxOp()(m, x[i * stride]);
  return walk.combine(m, MaxOp());
}

// sum_i exp(x_i - m) over a line.
template <class Walk>
__device__ float line_sum_exp(const Walk& walk, const float* x, int64_t stride, float m) {
  float s = 0.0f;
  for (int64_t i = walk.first(); i < walk.n; i += walk.step()) s += expf(x[i * stride] - m);
  return walk.combine(s, SumOp());
}

// log sum_i exp(x_i) = m + log sum_i exp(x_i - m), m = max_i x_i, so no exp
// overflows; an infinite (or empty) line gives m itself.
template <class Walk>
__device__ float line_logsumexp(const Walk& walk, const float* x, int64_t stride) {
  float m = line_max(walk, x, stride);
  if (fabsf(m) == INFINITY) return m;  // m is the same on every thread: the branch is uniform
  return m + logf(line_sum_exp(walk, x, stride, m));
}

// y[line] = op over the line of x.
struct ReduceLine {
  ReduceOp op;
  const float* x;
  float* y;
  template <class Walk>
  __device__ void operator()(const Walk& walk, int64_t line, int64_t base, int64_t stride) const {
    const float* xl = x + base;
    float r;
    if (op == ReduceOp::Max) {
      r = line_max(walk, xl, stride);
    } else if (op == ReduceOp::LogSumExp) {
      r = line_logsumexp(walk, xl, stride);
    } else {
      float s = 0.0f;
      for (int64_t i = walk.first(); i < walk.n; i += walk.step()) s += xl[i * stride];
      r = walk.combine(s, SumOp());
    }
    if (walk.leader()) y[line] = r;
  }
};

// softmax(x)_i = exp(x_i - m) / sum_j exp(x_j - m), m = max_j x_j;
// log_softmax(x)_i = x_i - logsumexp(x). A line that is all -inf (every position
// masked) gives softmax 0 everywhere rather than 0/0.
struct SoftmaxLine {
  const float* x;
  float* y;
  bool log;
  template <class Walk>
  __device__ void operator()(const Walk& walk, int64_t, int64_t base, int64_t stride) const {
    const float* xl = x + base;
    float* yl = y + base;
    if (log) {
      const float lse = line_logsumexp(walk, xl, stride);
      for (int64_t i = walk.first(); i < walk.n; i += walk.step()) yl[i * stride] = xl[i * stride] - lse;
      return;
    }
    const float m = line_max(walk, xl, stride);
    if (m == -INFINITY) {
      for (int64_t i = walk.first(); i < walk.n; i += walk.step()) yl[i * stride] = 0.0f;
      return;
    }
    const float inv = 1.0f / line_sum_exp(walk, xl, stride, m);
    for (int64_t i = walk.first(); i < walk.n; i += walk.step()) yl[i * stride] = expf(xl[i * stride] - m) * inv;
  }
};

// softmax: dx = y (dy - sum_i dy_i y_i);  log_softmax: dx = dy - exp(y) sum_i dy_i.
struct SoftmaxBackwardLine {
  const float* y;
  const float* dy;
  float* dx;
  bool log;
  template <class Walk>
  __device__ void operator()(const Walk& walk, int64_t, int64_t base, int64_t stride) const {
    const float *yl = y + base, *dyl = dy + base;
    float* dxl = dx + base;
    float s = 0.0f;
    for (int64_t i = walk.first(); i < walk.n; i += walk.step())
      s += log ? dyl[i * stride] : dyl[i * stride] * yl[i * stride];
    s = walk.combine(s, SumOp());
    for (int64_t i = walk.first(); i < walk.n; i += walk.step()) {
      const int64_t at = i * stride;
      dxl[at] = log ? dyl[at] - expf(yl[at]) * s : yl[at] * (dyl[at] - s);
    }
  }
};

// y_i = sum_{j <= i} x_j (or j >= i when reverse), one thread per line, in the
// same order as the CPU loop.
struct CumsumLine {
  const float* x;
  float* y;
  bool reverse;
  template <class Walk>
  __device__ void operator()(const Walk& walk, int64_t, int64_t base, int64_t stride) const {
    float acc = 0.0f;
    for (int64_t step = 0; step < walk.n; ++step) {
      const int64_t at = base + (reverse ? walk.n - 1 - step : step) * stride;
      acc += x[at];
      y[at] = acc;
    }
  }
};

// ---- launch plans ------------------------------------------------------------------

template <class Launch>
void reduce(const Launch& launch, ReduceOp op, const float* x, float* y, int64_t outer, int64_t n, int64_t inner) {
  for_each_line(launch, ReduceLine{op, x, y}, outer, n, inner);
}

template <class Launch>
void softmax(const Launch& launch, const float* x, float* y, int64_t outer, int64_t n, int64_t inner,
             SoftmaxForm form) {
  for_each_line(launch, SoftmaxLine{x, y, form == SoftmaxForm::LogSoftmax}, outer, n, inner);
}

template <class Launch>
void softmax_backward(const Launch& launch, const float* y, const float* dy, float* dx, int64_t outer, int64_t n,
                      int64_t inner, SoftmaxForm form) {
  for_each_line(launch, SoftmaxBackwardLine{y, dy, dx, form == SoftmaxForm::LogSoftmax}, outer, n, inner);
}

template <class Launch>
void cumsum(const Launch& launch, const float* x, float* y, int64_t outer, int64_t n, int64_t inner,
            ScanDirection direction) {
  for_each_line_by_thread(launch, CumsumLine{x, y, direction == ScanDirection::Reverse}, outer, n, inner);
}

}  // namespace ta::cuda_kernels

// core/cuda/kernels/loss.cuh — fused cross-entropy over logits [rows, classes] with
// integer targets: log-softmax and the negative log-likelihood in one pass per row
// (one block per row, lines.cuh), never materializing the softmax.
#pragma once

#include <cstdint>

#include "core/cuda/device_compat.h"
#include "core/cuda/kernels/reduce.cuh"

namespace ta::cuda_kernels {

// lse_r = m + log sum_c exp(logits[r, c] - m),  loss_r = lse_r - logits[r, t_r]
// (0 when t_r is the ignore index).
struct CrossEntropyLine {
  const float* logits;
  const float* targets;
  float* loss;
  float* lse;
  int64_t ignore_index;
  template <class Walk>
  __device__ void operator()(const Walk& walk, int64_t row, int64_t base, int64_t stride) const {
    const float* z = logits + base;
    const float m = line_max(walk, z, stride);
    const float row_lse = m + logf(line_sum_exp(walk, z, stride, m));
    if (!walk.leader()) return;
    const int64_t t = static_cast<int64_t>(targets[row]);
    lse[row] = row_lse;
    loss[row] = t == ignore_index ? 0.0f : row_lse - z[t * stride];
  }
};

// dlogits[r, c] = g (exp(logits[r, c] - lse_r) - [c == t_r]), 0 for ignored rows;
// g = scale[0] folds in the upstream gradient and the 1/count of a mean.
__global__ inline void cross_entropy_backward_kernel(const float* logits, const float* targets, const float* lse,
                                                     const float* scale, float* dlogits, int64_t rows,
                                                     int64_t classes, int64_t ignore_index) {
  const float g = scale[0];
  for (int64_t i = grid_first(); i < rows * classes; i += grid_step()) {
    const int64_t r = i / classes, c = i % classes, t = static_cast<int64_t>(targets[r]);
    if (t == ignore_index) {
      dlogits[i] = 0.0f;
      continue;
    }
    const float d = g * expf(logits[i] - lse[r]);
    dlogits[i] = c == t ? d - g : d;
  }
}

// ---- launch plans ------------------------------------------------------------------

template <class Launch>
void cross_entropy(const Launch& launch, const float* logits, const float* targets, float* loss, float* lse,
                   int64_t rows, int64_t classes, int64_t ignore_index) {
  for_each_line(launch, CrossEntropyLine{logits, targets, loss, lse, ignore_index}, rows, classes, 1);
}

template <class Launch>
void cross_entropy_backward(const Launch& launch, const float* logits, const float* targets, const float* lse,
                            const float* scale, float* dlogits, int64_t rows, int64_t classes, int64_t ignore_index) {
  launch(cross_entropy_backward_kernel, blocks_for(rows * classes), kThreads, 0, logits, targets, lse, scale, dlogits,
         rows, classes, ignore_index);
}

}  // namespace ta::cuda_kernels

// core/kernels/loss.h — the fused cross-entropy (CPU: core/cpu/loss.cpp, CUDA: core/cuda/loss.cu).
#pragma once

#include <utility>

#include "core/backend.h"
#include "core/tensor.h"

namespace ta::kernels {

// Per-row losses and log-sum-exps of logits [rows, classes] against targets [rows].
std::pair<Tensor, Tensor> cross_entropy(const Tensor& logits, const Tensor& targets, int64_t ignore_index);
Tensor cross_entropy_backward(const Tensor& logits, const Tensor& targets, const Tensor& lse, const Tensor& scale,
                              int64_t ignore_index);

}  // namespace ta::kernels

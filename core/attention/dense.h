// core/attention/dense.h — fused exact softmax attention on tensors (CPU:
// core/cpu/attention/dense.cpp, CUDA: core/cuda/attention/dense.cu).
#pragma once

#include <utility>
#include <vector>

#include "core/backend.h"
#include "core/tensor.h"

namespace ta::kernels {

// Fused exact softmax attention (attention_forward in core/attention/backend_ops.h). q [B, H, n_q, d],
// k and v [B, H, n_k, d], key_pad [B, n_k] (1 = padded) or undefined.
// Returns {o [B, H, n_q, d], lse [B, H, n_q]}.
std::pair<Tensor, Tensor> attention(const Tensor& q, const Tensor& k, const Tensor& v, float scale, Causality causal,
                                    const Tensor& key_pad);
// Returns {dq, dk, dv}.
std::vector<Tensor> attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& o,
                                       const Tensor& lse, const Tensor& d_o, float scale, Causality causal,
                                       const Tensor& key_pad);

}  // namespace ta::kernels

// core/attention/performer.h — fused causal FAVOR+ attention on tensors (CPU:
// core/cpu/attention/performer.cpp, CUDA: core/cuda/attention/performer.cu).
#pragma once

#include <vector>

#include "core/attention/types.h"
#include "core/tensor.h"

namespace ta::kernels {

// The semantics: favor_causal_forward in core/attention/backend_ops.h.
// q [B, H, n_q, d], k and v [B, H, n_k, d] with n_k >= n_q, w [m, d] the random
// features (no gradient), key_pad [B, n_k] (1 = padded) or undefined.
struct FavorResult {
  Tensor o;     // [B, H, n_q, d]
  Tensor den;   // [B, H, n_q], the raw denominators
  Tensor kmax;  // [B, H, n_k], the running maxima of the key exponents
};
FavorResult favor_causal(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& w, float scale,
                         FavorKernel kernel, const Tensor& key_pad);
// Returns {dq, dk, dv}.
std::vector<Tensor> favor_causal_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& w,
                                          const FavorResult& saved, const Tensor& d_o, float scale,
                                          FavorKernel kernel, const Tensor& key_pad);

}  // namespace ta::kernels

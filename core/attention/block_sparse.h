// core/attention/block_sparse.h — block-sparse attention on tensors (CPU:
// core/cpu/attention/block_sparse.cpp, CUDA: core/cuda/attention/block_sparse.cu).
#pragma once

#include <utility>
#include <vector>

#include "core/attention/types.h"
#include "core/tensor.h"

namespace ta::kernels {

// The semantics: block_sparse_attention_forward in core/attention/backend_ops.h.
// q [B, H, n_q, d], k and v [B, H, n_k, d], key_pad [B, n_k] (1 = padded) or undefined;
// the layout must be built for these n_q, n_k (attention/sparse_layout.h). Checks
// the layout's lists (indices in range, query rows unique within a part).
// Returns {o [B, H, n_q, d], lse [B, H, n_q]}.
std::pair<Tensor, Tensor> block_sparse_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                                 const BlockSparseLayout& layout, float scale, const Tensor& key_pad);
// Returns {dq, dk, dv}.
std::vector<Tensor> block_sparse_attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& o,
                                                    const Tensor& lse, const Tensor& d_o,
                                                    const BlockSparseLayout& layout, float scale,
                                                    const Tensor& key_pad);

}  // namespace ta::kernels

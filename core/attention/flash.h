// core/attention/flash.h — FLASH attention and the GAU's scale-offset on tensors (CPU:
// core/cpu/attention/flash.cpp, CUDA: core/cuda/attention/flash.cu).
#pragma once

#include <utility>
#include <vector>

#include "core/attention/flash_options.h"
#include "core/tensor.h"

namespace ta::kernels {

// FLASH attention (flash_forward in core/attention/backend_ops.h, and
// core/attention/flash_options.h): qk
// [4 or 2, B, n, s], v [B, n, e], rel_bias [2L - 1] (L >= the chunk length) or
// undefined, key_pad [B, n] (1 = padded) or undefined. Returns {out [B, n, e], state}
// (state [B, causal ? chunks : 1, s, e], undefined without the linear part).
std::pair<Tensor, Tensor> flash_attention(const Tensor& qk, const Tensor& v, const FlashOptions& options,
                                          const Tensor& rel_bias, const Tensor& key_pad);
// Returns {dqk, dv, drel_bias (undefined without a table)}.
std::vector<Tensor> flash_attention_backward(const Tensor& qk, const Tensor& v, const FlashOptions& options,
                                             const Tensor& rel_bias, const Tensor& key_pad, const Tensor& state,
                                             const Tensor& d_out);
// FLASH's scale-offset: z [..., s], gamma and beta [planes, s] -> [planes, ..., s].
Tensor scale_offset(const Tensor& z, const Tensor& gamma, const Tensor& beta);
// Returns {dz, dgamma, dbeta}.
std::vector<Tensor> scale_offset_backward(const Tensor& z, const Tensor& gamma, const Tensor& dy);

}  // namespace ta::kernels

// attention/flash_attention.h — the attention of FLASH (Hua et al. 2022, "Transformer
// Quality in Linear Time"): squared-ReLU attention, quadratic within chunks of c
// positions and linear across chunks ("mixed chunk attention").
//
// Two implementations of one function (written out in core/attention/flash_options.h):
//   - flash_attention (autograd/ops.h): the fused kernel, tiled per chunk, with a
//     hand-written backward and memory linear in n; what the GAU layer uses;
//   - flash_attention_reference (here): the same function from autograd ops, close
//     to the paper's pseudocode, with the chunk x chunk weights materialized. Read
//     this one first; the tests hold the two together.
// In both, a NaN or inf at a later or padded position reaches no output that may not
// see it (the kernel skips hidden pairs; the reference computes on finite inputs and
// marks what sees a non-finite one: attention/non_finite.h).
#pragma once

#include "core/attention/flash_options.h"
#include "layers/position.h"

namespace ta {

// qk [4 or 2, B, n, s], v [B, n, e], rel_bias [2L - 1] or undefined, key_padding_mask
// [B, n] or undefined -> [B, n, e], exactly as flash_attention (autograd/ops.h).
Tensor flash_attention_reference(const Tensor& qk, const Tensor& v, const FlashOptions& options,
                                 const Tensor& rel_bias = Tensor(), const Tensor& key_padding_mask = Tensor());

// The per-offset table of a relative position bias (one head) for chunks of up to
// `length` positions: entry (j - i) + length - 1 is the bias of key j for query i,
// [2 length - 1]. Built with embedding(), so gradients reach the bias weights.
Tensor relative_bias_table(const RelativePositionBias& bias, int64_t length);

// The benchmark's function (shared bench README, workload (d)): Z [B, n, s], V [B, n, e],
// gamma and beta [4, s] (or [2, s] for quadratic only) -> [B, n, e], i.e.
// flash_attention(scale_offset(z, gamma, beta), v, options), through the fused kernel
// or the reference. The benchmark's own numbers: options.chunk = 256, causal,
// FlashScaling::Length, score_scale = lin_scale = 1 / 256.
enum class FlashImplementation { Fused, Reference };
Tensor flash_attention_from_base(const Tensor& z, const Tensor& v, const Tensor& gamma, const Tensor& beta,
                                 const FlashOptions& options,
                                 FlashImplementation implementation = FlashImplementation::Fused);

}  // namespace ta

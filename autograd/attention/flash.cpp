// FLASH attention's two ops (Hua et al. 2022): the per-dimension scale-offset that
// turns the GAU's shared base Z into queries and keys, and the fused mixed-chunk
// attention. Forward and hand-written backward are kernels (core/cpu/attention/flash.cpp); this
// file only records the nodes. The reference built from ordinary ops, which the
// tests hold these to, is attention/flash_attention.cpp.
#include "autograd/node.h"
#include "autograd/ops.h"
#include "core/attention/flash.h"

namespace ta {

namespace {
const OpInfo kScaleOffset("scale_offset");
const OpInfo kFlashAttention("flash_attention");
}  // namespace

Tensor scale_offset(const Tensor& z, const Tensor& gamma, const Tensor& beta) {
  Tensor y = kernels::scale_offset(z, gamma, beta);
  record(kScaleOffset, y, {&z, &gamma, &beta}, [z = z.detach(), gamma = gamma.detach()](const Tensor& g) -> Grads {
    return whole_grads(kernels::scale_offset_backward(z, gamma, g));
  });
  return y;
}

// The backward needs the inputs and the linear part's per-chunk state P_g (n s e / c
// floats); the quadratic tiles are recomputed, so nothing of size n x c is kept.
Tensor flash_attention(const Tensor& qk, const Tensor& v, const FlashOptions& options, const Tensor& rel_bias,
                       const Tensor& key_padding_mask) {
  auto [out, state] = kernels::flash_attention(qk, v, options, rel_bias, key_padding_mask);
  record(kFlashAttention, out, {&qk, &v, &rel_bias},
         [qk = qk.detach(), v = v.detach(), rel_bias = rel_bias.defined() ? rel_bias.detach() : Tensor(),
          key_padding_mask, state = state, options](const Tensor& g) -> Grads {
           return whole_grads(
               kernels::flash_attention_backward(qk, v, options, rel_bias, key_padding_mask, state, g));
         });
  return out;
}

}  // namespace ta

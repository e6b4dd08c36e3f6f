// The fused exact attention op: forward and hand-written backward are kernels
// (core/cpu/attention/dense.cpp); this file only records the node.
#include "autograd/node.h"
#include "autograd/ops.h"
#include "core/attention/dense.h"

namespace ta {

namespace {
const OpInfo kFusedAttention("fused_attention");
}

// The backward needs q, k, v, the output and the per-row log-sum-exp (from which
// it recomputes the probabilities tile by tile): O(n d) saved, never O(n^2).
Tensor fused_attention(const Tensor& q, const Tensor& k, const Tensor& v, float scale, Causality causal,
                       const Tensor& key_padding_mask) {
  auto [o, lse] = kernels::attention(q, k, v, scale, causal, key_padding_mask);
  record(kFusedAttention, o, {&q, &k, &v},
         [q, k, v, o_saved = o.detach(), lse = lse, scale, causal, key_padding_mask](const Tensor& g) -> Grads {
           return whole_grads(
               kernels::attention_backward(q, k, v, o_saved, lse, g, scale, causal, key_padding_mask));
         });
  return o;
}

}  // namespace ta

// attention/softmax.h — exact softmax attention (Vaswani et al. 2017).
#pragma once

#include "attention/attention_core.h"

namespace ta {

// The reference core, written with autograd ops and close to the formula:
//   S = q k^T * scale,  S_ij = -inf where j is masked (future or padding),
//   (scale: AttentionScale, the length factor of query i times 1/sqrt(d_head)),
//   P = softmax over j,  out = P v.
// It materializes the n_q x n_k score matrix: simple, and memory quadratic in n.
// A NaN or inf input reaches only the outputs that may see it (attention/non_finite.h).
class SoftmaxReferenceCore : public AttentionCore {
 public:
  explicit SoftmaxReferenceCore(AttentionScale scale) : AttentionCore(scale) {}
  Tensor forward(const Tensor& q, const Tensor& k, const Tensor& v, Causality causal,
                 const Tensor& key_padding_mask) override;
  const char* name() const override { return "softmax-reference"; }
};

// The fused core: the same function through one fused op (ta::fused_attention),
// tiled with an online softmax and a hand-written backward, memory linear in n;
// tiles above the causal diagonal are skipped. The reference core is what it is
// tested against.
class SoftmaxFusedCore : public AttentionCore {
 public:
  explicit SoftmaxFusedCore(AttentionScale scale) : AttentionCore(scale) {}
  Tensor forward(const Tensor& q, const Tensor& k, const Tensor& v, Causality causal,
                 const Tensor& key_padding_mask) override;
  const char* name() const override { return "softmax"; }
};

// The mask of the scores, [batch or 1, 1, n_q, n_k]: 1 where query i may not see
// key j (future keys when causal, padded keys), else 0; the scores it marks are set to
// -inf (masked_fill), not added to. Undefined when nothing is masked.
Tensor attention_mask(int64_t n_q, int64_t n_k, Causality causal, const Tensor& key_padding_mask);

}  // namespace ta

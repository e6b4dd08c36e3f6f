// The fused causal FAVOR+ op (Performer): forward and hand-written backward are
// kernels (core/cpu/attention/performer.cpp); this file only records the node.
#include "autograd/node.h"
#include "autograd/ops.h"
#include "core/attention/performer.h"

namespace ta {

namespace {
const OpInfo kFavorCausal("favor_causal_attention");
}

// The backward needs q, k, v, the features, the output, the denominators and the
// running key maxima (from which it recomputes the features chunk by chunk): O(n d)
// saved, never O(n m).
Tensor favor_causal_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& w, float scale,
                              FavorKernel kernel, const Tensor& key_padding_mask) {
  kernels::FavorResult r = kernels::favor_causal(q, k, v, w, scale, kernel, key_padding_mask);
  Tensor o = r.o;
  r.o = r.o.detach();
  record(kFavorCausal, o, {&q, &k, &v},
         [q, k, v, w = w.detach(), saved = r, scale, kernel, key_padding_mask](const Tensor& g) -> Grads {
           return whole_grads(
               kernels::favor_causal_backward(q, k, v, w, saved, g, scale, kernel, key_padding_mask));
         });
  return o;
}

}  // namespace ta

#include "attention/softmax.h"

#include <limits>
#include <vector>

#include "attention/builtin_variants.h"
#include "attention/multi_head.h"
#include "attention/non_finite.h"
#include "autograd/ops.h"
#include "core/error.h"

namespace ta {

Tensor attention_mask(int64_t n_q, int64_t n_k, Causality causal, const Tensor& key_padding_mask) {
  Tensor mask;
  if (causal == Causality::Causal) {
    std::vector<float> m(n_q * n_k);
    const int64_t shift = n_k - n_q;  // queries are the last n_q positions
    for (int64_t i = 0; i < n_q; ++i)
      for (int64_t j = 0; j < n_k; ++j) m[i * n_k + j] = j > i + shift ? 1.0f : 0.0f;
    mask = Tensor::from_vector(m, Shape{1, 1, n_q, n_k});
  }
  if (key_padding_mask.defined()) {
    TA_CHECK(key_padding_mask.ndim() == 2 && key_padding_mask.size(1) == n_k, "attention: key_padding_mask must be ",
             "[batch, ", n_k, "], got ", key_padding_mask.shape());
    Tensor pad = reshape(key_padding_mask, Shape{key_padding_mask.size(0), 1, 1, n_k});
    mask = mask.defined() ? maximum(mask.to(pad.device()), pad) : pad;
  }
  return mask;
}

Tensor SoftmaxReferenceCore::forward(const Tensor& q, const Tensor& k, const Tensor& v, Causality causal,
                                     const Tensor& key_padding_mask) {
  const FiniteInputs f = finite_inputs(q, k, v);  // a NaN in a hidden key must not meet its weight of 0
  const Tensor q_scaled = scale_.scale_queries(f.q, k.size(-2), causal, key_padding_mask);
  Tensor scores = matmul(q_scaled, f.k, Transposed::B) * scale_.base;  // [b, h, n_q, n_k]
  Tensor mask = attention_mask(q.size(-2), k.size(-2), causal, key_padding_mask);
  if (mask.defined()) {
    mask = mask.to(q.device());
    scores = masked_fill(scores, mask, -std::numeric_limits<float>::infinity());
  }
  return mark_seen(matmul(softmax(scores, -1), f.v), f, mask);
}

Tensor SoftmaxFusedCore::forward(const Tensor& q, const Tensor& k, const Tensor& v, Causality causal,
                                 const Tensor& key_padding_mask) {
  return fused_attention(scale_.scale_queries(q, k.size(-2), causal, key_padding_mask), k, v, scale_.base, causal,
                         key_padding_mask);
}

namespace {

std::shared_ptr<TokenMixer> build_fused(const AttentionConfig& c, const VariantOptions&, Generator& g) {
  return multi_head_attention(c, std::make_shared<SoftmaxFusedCore>(attention_scale(c)), g);
}

std::shared_ptr<TokenMixer> build_reference(const AttentionConfig& c, const VariantOptions&, Generator& g) {
  return multi_head_attention(c, std::make_shared<SoftmaxReferenceCore>(attention_scale(c)), g);
}

}  // namespace

const AttentionRegistration softmax_registration({
    .name = "softmax",
    .description = "exact softmax attention, fused tiled kernel (memory linear in n)",
    .build = build_fused,
    .reference = build_reference,
    .fixed_sizes = {96, 256},  // the fused kernel's tiles: 96 queries, 256 keys (core/cpu/attention/dense.cpp)
});

const AttentionRegistration softmax_reference_registration({
    .name = "softmax-reference",
    .description = "exact softmax attention from autograd ops (n x n scores)",
    .build = build_reference,
});

}  // namespace ta

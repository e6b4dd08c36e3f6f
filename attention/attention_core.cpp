#include "attention/attention_core.h"

#include <cmath>
#include <limits>
#include <vector>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "core/error.h"

namespace ta {

float AttentionScale::length_factor(int64_t visible_keys) const {
  if (!length_aware()) return 1.0f;
  if (visible_keys <= 1) return 0.0f;
  return static_cast<float>(std::log(static_cast<double>(visible_keys)) /
                            std::log(static_cast<double>(train_length)));
}

Tensor AttentionScale::scale_queries(const Tensor& q, int64_t n_k, Causality causal,
                                     const Tensor& key_padding_mask) const {
  if (!length_aware()) return q;
  TA_CHECK(q.ndim() == 4, "attention scale: expected q [batch, heads, n_q, d], got ", q.shape());
  const int64_t n_q = q.size(2), shift = n_k - n_q;
  TA_CHECK(shift >= 0, "attention scale: ", n_q, " queries cannot be the last positions of ", n_k, " keys");
  const int64_t rows = key_padding_mask.defined() ? key_padding_mask.size(0) : 1;
  const std::vector<float> pad =
      key_padding_mask.defined() ? key_padding_mask.to_vector() : std::vector<float>(n_k, 0.0f);
  TA_CHECK(static_cast<int64_t>(pad.size()) == rows * n_k, "attention scale: key_padding_mask must be [batch, ", n_k,
           "], got ", key_padding_mask.shape());
  std::vector<float> factors(rows * n_q);
  for (int64_t b = 0; b < rows; ++b) {
    int64_t seen = 0, total = 0;  // unpadded keys up to the query, in the sequence
    for (int64_t j = 0; j < n_k; ++j) total += pad[b * n_k + j] == 0.0f;
    for (int64_t j = 0; j < n_k; ++j) {
      seen += pad[b * n_k + j] == 0.0f;
      if (j >= shift) factors[b * n_q + j - shift] = length_factor(causal == Causality::Causal ? seen : total);
    }
  }
  return q * Tensor::from_vector(factors, Shape{rows, 1, n_q, 1}, q.device());
}

Tensor AttentionCore::query_weights(const Tensor& q, const Tensor& k, int64_t i, Causality causal) {
  NoGradGuard no_grad;
  const int64_t n_q = q.size(2), n_k = k.size(2);
  TA_CHECK(i >= 0 && i < n_q, name(), ": query ", i, " is outside 0..", n_q - 1);
  const Tensor qi = narrow(scale_.scale_queries(q, n_k, causal, Tensor()), 2, i, 1);
  Tensor scores = matmul(qi, k, Transposed::B) * scale_.base;
  if (causal == Causality::Causal) {
    std::vector<float> future(n_k);
    for (int64_t j = 0; j < n_k; ++j) future[j] = j > i + (n_k - n_q) ? 1.0f : 0.0f;
    scores = masked_fill(scores, Tensor::from_vector(future, Shape{n_k}, q.device()),
                         -std::numeric_limits<float>::infinity());
  }
  return reshape(softmax(scores, -1), Shape{q.size(0), q.size(1), n_k});
}

std::unique_ptr<MixerState> AttentionCore::start_decoding(int64_t) const { return nullptr; }

Tensor AttentionCore::step(const Tensor&, const Tensor&, const Tensor&, MixerState&) {
  throw Error(cat(name(), ": this attention core has no decoding state of its own"));
}

}  // namespace ta

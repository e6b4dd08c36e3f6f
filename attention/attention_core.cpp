#include "attention/attention_core.h"

#include <cmath>
#include <limits>
#include <vector>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "core/error.h"

namespace ta {

float AttentionScale::operator()(int64_t n) const {
  if (train_length < 2 || n < 2) return base;
  return base * static_cast<float>(std::log(static_cast<double>(n)) / std::log(static_cast<double>(train_length)));
}

Tensor AttentionCore::query_weights(const Tensor& q, const Tensor& k, int64_t i, bool causal) {
  NoGradGuard no_grad;
  const int64_t n_q = q.size(2), n_k = k.size(2);
  TA_CHECK(i >= 0 && i < n_q, name(), ": query ", i, " is outside 0..", n_q - 1);
  Tensor scores = matmul(narrow(q, 2, i, 1), k, false, true) * (1.0f / std::sqrt(static_cast<float>(q.size(3))));
  if (causal) {
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

#include "attention/sparse.h"

#include <limits>
#include <vector>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "core/error.h"

namespace ta {

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

void check_mode(const SparseCoreOptions& o, bool causal) {
  TA_CHECK(causal == o.causal, o.name, ": its pattern was built ", (o.causal ? "causal" : "bidirectional"),
           " but forward() was asked for ", (causal ? "causal" : "bidirectional"), " attention; build the variant ",
           "with the mode you use (AttentionConfig::causal)");
}

void check_options(const SparseCoreOptions& o) {
  TA_CHECK(!o.patterns.empty(), o.name, ": no pattern given");
  for (const SparsePattern& p : o.patterns) TA_CHECK(!p.factors.empty(), o.name, ": a pattern has no factor");
}

// The weights of query row i over all keys, [batch, heads, n_k]: the exact softmax
// over the keys its head's pattern allows (the picture of a sparse head).
Tensor pattern_row_weights(const SparseCoreOptions& o, const AttentionScale& scale, const Tensor& q, const Tensor& k,
                           int64_t i, bool causal) {
  check_mode(o, causal);
  NoGradGuard no_grad;
  const int64_t n_q = q.size(2), n_k = k.size(2), heads = q.size(1);
  TA_CHECK(i >= 0 && i < n_q, o.name, ": query ", i, " is outside 0..", n_q - 1);
  // The mask of row i alone, [1, P, 1, n_k] (P = 1 or heads, as in sparse_token_mask).
  const int64_t P = o.patterns.size() == 1 ? 1 : heads, position = i + n_k - n_q;
  std::vector<float> m(P * n_k);
  for (int64_t h = 0; h < P; ++h)
    for (int64_t j = 0; j < n_k; ++j)
      m[h * n_k + j] = o.patterns[h % static_cast<int64_t>(o.patterns.size())].allowed(position, j, n_k) ? 0.0f : 1.0f;
  const Tensor row_mask = Tensor::from_vector(m, Shape{1, P, 1, n_k});
  const Tensor qi = narrow(scale.scale_queries(q, n_k, causal, Tensor()), 2, i, 1);
  Tensor scores = matmul(qi, k, false, true) * scale.base;  // [b, h, 1, n_k]
  scores = masked_fill(scores, row_mask.to(q.device()), -kInf);
  return reshape(softmax(scores, -1), Shape{q.size(0), heads, n_k});
}

}  // namespace

SparseReferenceCore::SparseReferenceCore(SparseCoreOptions options)
    : AttentionCore(options.scale), options_(std::move(options)) {
  check_options(options_);
}

Tensor SparseReferenceCore::forward(const Tensor& q, const Tensor& k, const Tensor& v, bool causal,
                                    const Tensor& key_padding_mask) {
  check_mode(options_, causal);
  const int64_t n_q = q.size(-2), n_k = k.size(-2);
  const Tensor q_scaled = scale_.scale_queries(q, n_k, causal, key_padding_mask);
  Tensor scores = matmul(q_scaled, k, false, true) * scale_.base;  // [b, h, n_q, n_k]
  Tensor mask = sparse_token_mask(options_.patterns, q.size(1), n_q, n_k).to(q.device());
  if (key_padding_mask.defined()) {
    TA_CHECK(key_padding_mask.ndim() == 2 && key_padding_mask.size(1) == n_k, options_.name,
             ": key_padding_mask must be [batch, ", n_k, "], got ", key_padding_mask.shape());
    mask = maximum(mask, reshape(key_padding_mask, Shape{key_padding_mask.size(0), 1, 1, n_k}));
  }
  return matmul(softmax(masked_fill(scores, mask, -kInf), -1), v);
}

Tensor SparseReferenceCore::query_weights(const Tensor& q, const Tensor& k, int64_t i, bool causal) {
  return pattern_row_weights(options_, scale_, q, k, i, causal);
}

SparseFusedCore::SparseFusedCore(SparseCoreOptions options, int64_t block)
    : AttentionCore(options.scale), options_(std::move(options)), block_(block) {
  check_options(options_);
  TA_CHECK(block >= 1 && block <= 64, options_.name, ": the block size must be in 1..64, got ", block);
}

std::shared_ptr<const BlockSparseLayout> SparseFusedCore::layout(int64_t n_q, int64_t n_k) {
  if (!layout_ || layout_->n_q != n_q || layout_->n_k != n_k)
    layout_ = build_block_layout(options_.patterns, n_q, n_k, block_);
  return layout_;
}

Tensor SparseFusedCore::forward(const Tensor& q, const Tensor& k, const Tensor& v, bool causal,
                                const Tensor& key_padding_mask) {
  check_mode(options_, causal);
  TA_CHECK(q.ndim() == 4 && k.ndim() == 4, options_.name, ": q and k must be [batch, heads, n, d_head], got ",
           q.shape(), " and ", k.shape());
  const int64_t n_k = k.size(2);
  return block_sparse_attention(scale_.scale_queries(q, n_k, causal, key_padding_mask), k, v, layout(q.size(2), n_k),
                                scale_.base, key_padding_mask);
}

Tensor SparseFusedCore::query_weights(const Tensor& q, const Tensor& k, int64_t i, bool causal) {
  return pattern_row_weights(options_, scale_, q, k, i, causal);
}

}  // namespace ta

// attention/sparse.h — Sparse Transformer attention (Child et al. 2019): exact
// softmax attention in which each query sees only the keys of a sparse pattern
// (attention/sparse_layout.h: strided, fixed, or a layout of one's own).
//
// Two cores compute the same function. The reference core writes it with autograd
// ops: the dense scores with every pair outside the pattern set to -inf, so its
// time and memory are quadratic in n; it is what the tests hold the fused core to.
// The fused core runs the block-sparse kernel (ta::block_sparse_attention): only
// the active blocks of the pattern's layout are computed, forward and backward, so
// time and memory are O(active blocks), O(n sqrt n) for the paper's patterns.
//
// Incremental decoding needs nothing special: MultiHeadAttention calls forward()
// with the new query (n_q = 1) against the whole key/value cache (n_k = t), and the
// layout built for (n_q, n_k) lists exactly the cached keys the pattern lets the
// new position t - 1 see: a step computes O(sqrt t) scores (building its layout
// lists the t positions once, O(t) integer work). The last layout is kept and
// reused while (n_q, n_k) stay the same, so a training run builds it once.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "attention/attention_core.h"
#include "attention/sparse_layout.h"

namespace ta {

// What both cores share: the patterns (head h uses patterns[h % size]), the mode
// they were built for, the scale (handed to AttentionCore) and the name.
struct SparseCoreOptions {
  std::vector<SparsePattern> patterns;
  bool causal = true;  // the mode of the patterns' factors; forward() must be called with it
  AttentionScale scale;
  std::string name = "sparse";
};

class SparseReferenceCore : public AttentionCore {
 public:
  explicit SparseReferenceCore(SparseCoreOptions options);
  // S = q k^T scale, S_ij = -inf where the pattern does not allow (i, j) or key j is
  // padded; out = softmax(S) v. A NaN or inf input reaches only the outputs that may
  // see it (attention/non_finite.h).
  Tensor forward(const Tensor& q, const Tensor& k, const Tensor& v, Causality causal,
                 const Tensor& key_padding_mask) override;
  const char* name() const override { return options_.name.c_str(); }
  Tensor query_weights(const Tensor& q, const Tensor& k, int64_t i, Causality causal) override;

 private:
  SparseCoreOptions options_;
};

class SparseFusedCore : public AttentionCore {
 public:
  // block: the kernel's block size b (1..64).
  SparseFusedCore(SparseCoreOptions options, int64_t block);
  Tensor forward(const Tensor& q, const Tensor& k, const Tensor& v, Causality causal,
                 const Tensor& key_padding_mask) override;
  const char* name() const override { return options_.name.c_str(); }
  Tensor query_weights(const Tensor& q, const Tensor& k, int64_t i, Causality causal) override;

  // The layout forward() uses for n_q queries after n_k - n_q cached positions.
  std::shared_ptr<const BlockSparseLayout> layout(int64_t n_q, int64_t n_k);
  const std::vector<SparsePattern>& patterns() const { return options_.patterns; }
  int64_t block() const { return block_; }

 private:
  SparseCoreOptions options_;
  int64_t block_;
  std::shared_ptr<const BlockSparseLayout> layout_;  // the last one built
};

}  // namespace ta

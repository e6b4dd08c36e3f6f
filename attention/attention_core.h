// attention/attention_core.h — the part of multi-head attention that variants replace.
//
// Multi-head attention projects x to queries, keys and values, splits them into
// heads, lets a core mix each head's values, and projects the heads back. Exact
// softmax, kernelized (Performer) and sparse attention differ only in the core, so
// they share everything else (attention/multi_head.h).
#pragma once

#include <memory>

#include "layers/module.h"
#include "layers/token_mixer.h"

namespace ta {

// The factor on the scores q.k of one query.
//   Plain (train_length 0): base = 1/sqrt(d_head) for every query.
//   Length-aware (train_length L >= 2; Chiang & Cholak 2022, "log-n scaling"):
//     base * log(c) / log(L), where c is the number of keys the query may attend to:
//       causal:        the unpadded positions up to and including its own (i + 1 for
//                      the query at 0-based position i of an unpadded sequence);
//       bidirectional: the unpadded positions of its sequence (n without padding).
//     It keeps the entropy of the attention weights about what it was in training when
//     a model trained on L tokens reads more keys (which would otherwise flatten the
//     softmax). A causal query counts only what it can know, its own position, never
//     the tokens after it: so the full pass, decoding token by token and the weights
//     drawn for pictures all scale query i alike. A sparse pattern does not change c
//     (it counts positions, not the keys the pattern keeps); c = 1 gives factor 0
//     (one key takes all the weight whatever the scale).
// Every core applies it the same way, through scale_queries(): the length factor
// multiplies the query rows, base multiplies the scores.
struct AttentionScale {
  float base = 1.0f;          // 1/sqrt(d_head)
  int64_t train_length = 0;   // L; 0: plain
  bool length_aware() const { return train_length >= 2; }
  // log(c)/log(L) for a query that may attend to c keys; 1 when plain.
  float length_factor(int64_t visible_keys) const;
  // q [batch, heads, n_q, d] with each query row multiplied by its length factor (q
  // itself when plain). The n_q queries are the last n_q of the n_k positions, as in
  // AttentionCore::forward; key_padding_mask [batch, n_k] (1 = padded) or undefined.
  Tensor scale_queries(const Tensor& q, int64_t n_k, Causality causal, const Tensor& key_padding_mask) const;
};

// A core is a Module, so that cores with parameters (Nystromformer's convolution)
// or buffers (Performer's random features) save and load with the model.
class AttentionCore : public Module {
 public:
  explicit AttentionCore(AttentionScale scale) : scale_(scale) {}
  const AttentionScale& scale() const { return scale_; }

  // q [batch, heads, n_q, d_head], k and v [batch, heads, n_k, d_head];
  // key_padding_mask [batch, n_k] with 1 at padded keys, or undefined.
  // Causal: query i (counted from the end, so that a query block can continue a
  // cache) sees keys j <= i + (n_k - n_q). Returns [batch, heads, n_q, d_head].
  virtual Tensor forward(const Tensor& q, const Tensor& k, const Tensor& v, Causality causal,
                         const Tensor& key_padding_mask) = 0;
  virtual const char* name() const = 0;

  // Incremental decoding. By default (nullptr here) MultiHeadAttention keeps every
  // past key and value (a KV cache) and calls forward() on them. A core with a
  // recurrent form (Performer: running sums) returns its own state instead, and
  // MultiHeadAttention then hands each new token's q, k, v [batch, heads, 1, d_head]
  // to step(), which returns that token's output [batch, heads, 1, d_head] and
  // advances the state (MultiHeadAttention advances state.position).
  virtual std::unique_ptr<MixerState> start_decoding(int64_t batch) const;
  virtual Tensor step(const Tensor& q, const Tensor& k, const Tensor& v, MixerState& state);

  // For pictures of what the model looks at: the weights query `i` gives to each
  // key, [batch, heads, n_k], from q, k as forward() saw them (no padding). By
  // default the exact softmax over the keys query i may see (causal or all), with the
  // core's scale; cores whose weights differ (sparse patterns, FAVOR+) override it.
  virtual Tensor query_weights(const Tensor& q, const Tensor& k, int64_t i, Causality causal);

 protected:
  AttentionScale scale_;
};

}  // namespace ta

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

// The factor on the scores q.k. Plain: 1/sqrt(d_head). Length-aware (Chiang &
// Cholak 2022; also "log-n scaling"): log(n)/log(n_train) / sqrt(d_head), which keeps
// the entropy of the attention weights about constant when a model trained on
// n_train tokens reads longer sequences (more keys would otherwise flatten the
// softmax). train_length = 0 means plain.
struct AttentionScale {
  float base = 1.0f;           // 1/sqrt(d_head)
  int64_t train_length = 0;
  float operator()(int64_t n) const;
};

// A core is a Module, so that cores with parameters (Nystromformer's convolution)
// or buffers (Performer's random features) save and load with the model.
class AttentionCore : public Module {
 public:
  // q [batch, heads, n_q, d_head], k and v [batch, heads, n_k, d_head];
  // key_padding_mask [batch, n_k] with 1 at padded keys, or undefined.
  // Causal: query i (counted from the end, so that a query block can continue a
  // cache) sees keys j <= i + (n_k - n_q). Returns [batch, heads, n_q, d_head].
  virtual Tensor forward(const Tensor& q, const Tensor& k, const Tensor& v, bool causal,
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
  // key, [batch, heads, n_k], from q, k as forward() saw them. By default the exact
  // softmax over the keys query i may see (causal or all); cores whose weights
  // differ (sparse patterns) override it.
  virtual Tensor query_weights(const Tensor& q, const Tensor& k, int64_t i, bool causal);
};

}  // namespace ta

// attention/multi_head.h — multi-head attention as a TokenMixer, with a pluggable core.
#pragma once

#include <memory>

#include "attention/attention_core.h"
#include "attention/registry.h"
#include "layers/linear.h"
#include "layers/position.h"
#include "layers/token_mixer.h"

namespace ta {

class MultiHeadAttention : public TokenMixer {
 public:
  struct Options {
    int64_t d_model = 128;
    int64_t heads = 4;
    bool causal = true;
    bool bias = true;
    int64_t rotary_dims = 0;  // > 0: RoPE on that many dims of each head's q and k
    float init_std = 0.02f;
  };
  MultiHeadAttention(const Options& options, std::shared_ptr<AttentionCore> core, Generator& gen);

  // [q | k | v] = x W_qkv^T (one GEMM), split into heads [batch, heads, n, d_head],
  // out = core(q, k, v) merged back to [batch, n, d_model], then projected by W_o.
  Tensor forward(const Tensor& x, const Tensor& key_padding_mask = Tensor()) override;
  bool causal() const override { return options.causal; }
  const char* name() const override { return core->name(); }
  std::vector<Tensor> residual_output_weights() const override { return {out->weight}; }

  // Decoding keeps every past key and value (a KV cache) and attends from the new
  // token to all of them, unless the core has a decoding state of its own
  // (AttentionCore::start_decoding), which then carries the past instead.
  std::unique_ptr<MixerState> start_decoding(int64_t batch) const override;
  Tensor step(const Tensor& x_t, MixerState& state) override;

  // When true, forward() keeps its q and k (detached) in last_q, last_k, for
  // attention pictures (AttentionCore::query_weights).
  bool keep_qk = false;
  Tensor last_q, last_k;

  Options options;
  int64_t d_head;
  std::shared_ptr<AttentionCore> core;
  std::shared_ptr<Linear> qkv, out;

 private:
  // x [b, n, d_model] -> q, k, v each [b, heads, n, d_head], RoPE applied from `offset`.
  void project(const Tensor& x, int64_t offset, Tensor& q, Tensor& k, Tensor& v) const;
  Tensor merge_heads(const Tensor& o) const;
  std::unique_ptr<RotaryEmbedding> rope_;
};

// What most variants' build functions need (attention/registry.h): the options of
// MultiHeadAttention from the shared config, the scale of its core (1/sqrt(d_head),
// length-aware when config.train_length > 0), and the mixer around a core.
MultiHeadAttention::Options multi_head_options(const AttentionConfig& config);
AttentionScale attention_scale(const AttentionConfig& config);
std::shared_ptr<MultiHeadAttention> multi_head_attention(const AttentionConfig& config,
                                                         std::shared_ptr<AttentionCore> core, Generator& gen);

}  // namespace ta

// layers/transformer.h — pre-norm Transformer blocks and the language models built
// from them, for any TokenMixer.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "layers/dropout.h"
#include "layers/embedding.h"
#include "layers/feed_forward.h"
#include "layers/finite_check.h"
#include "layers/linear.h"
#include "layers/norm.h"
#include "layers/position.h"
#include "layers/token_mixer.h"

namespace ta {

enum class NormKind { LayerNorm, RMSNorm, ScaleNorm };
enum class Positions { Learned, Sinusoidal, None };  // None: the mixer handles position (RoPE, bias)

struct TransformerConfig {
  int64_t vocab_size = 256;
  int64_t d_model = 128;
  int64_t n_layers = 2;
  int64_t d_ff = 0;        // 0: 4 d_model
  int64_t max_len = 1024;  // for learned positions
  bool causal = true;      // decoder LM (true) or encoder for masked-LM training (false)
  Positions positions = Positions::Learned;
  NormKind norm = NormKind::LayerNorm;
  Activation activation = Activation::Gelu;
  bool gated_ffn = false;     // GEGLU / SwiGLU feed-forward
  bool feed_forward = true;   // false: blocks are mixer only (a FLASH GAU replaces both)
  float dropout = 0.0f;       // on residual branches and embeddings only
  bool tie_embeddings = false;  // output head = token embedding matrix
  bool checkpoint = false;    // recompute each branch in backward (gradient checkpointing)
  float init_std = 0.02f;
  uint64_t seed = 0;          // initialization and dropout
  // K > 0: each position's input also holds the K input tokens before it,
  // h_t = E[x_t] + sum_{k=1..K} E_k[x_{t-k}] (+ position), one table E_k per offset,
  // with a row of its own for "before the start". An n-gram input in the first layer:
  // linear attention (Performer) cannot attend sharply to the previous few tokens.
  // Nothing at or after t is read, so causal models stay causal; a masked model's
  // shifted ids are its (masked) inputs, so no target leaks.
  int64_t previous_tokens = 0;
  // On: every block checks its mixer's input (after the norm) for NaN and infinity
  // (check_finite, layers/finite_check.h: one pass over [batch, n, d_model] per
  // layer), so a run that blows up stops at the first layer where it shows, with an
  // error naming the layer and the position. Padded positions are checked too: in
  // these models every position comes from an embedding, so a NaN anywhere is a fault.
  FiniteCheck check_inputs = FiniteCheck::Off;
};

// A factory: the token mixer of layer `index` (0-based) for this model width.
using MixerFactory = std::function<std::shared_ptr<TokenMixer>(int64_t index)>;

// The normalization layer of `kind` over the last axis, of width dim.
std::shared_ptr<Norm> make_norm(NormKind kind, int64_t dim);

// x = x + dropout(mixer(norm1(x)));  x = x + dropout(ffn(norm2(x)))
// Pre-norm: each branch sees a normalized input while the residual stream is left
// untouched, so gradients reach early layers through the identity paths.
class TransformerBlock : public Module {
 public:
  // `layer`: this block's index in its model, for the messages of check_inputs.
  TransformerBlock(const TransformerConfig& config, std::shared_ptr<TokenMixer> mixer, Generator& gen,
                   int64_t layer = 0);
  Tensor forward(const Tensor& x, const Tensor& key_padding_mask = Tensor());
  // One decoding step of the block for x_t [batch, 1, d_model].
  Tensor step(const Tensor& x_t, MixerState& state);

  std::shared_ptr<Norm> norm1, norm2;
  std::shared_ptr<TokenMixer> mixer;
  std::shared_ptr<FeedForward> ffn;  // null when the config has no feed-forward
  std::shared_ptr<Dropout> dropout;

 private:
  Tensor mixer_branch(const Tensor& x, const Tensor& key_padding_mask);
  Tensor ffn_branch(const Tensor& x);
  // norm1(x), checked finite when the config asks for it.
  Tensor mixer_input(const Tensor& x) const;
  bool checkpoint_;
  FiniteCheck check_inputs_;
  int64_t layer_;
  Generator* gen_;
};

// What incremental decoding carries from one token to the next: each layer's mixer
// state, and the ids of the last previous_tokens tokens (newest first).
struct DecodingState {
  std::vector<std::unique_ptr<MixerState>> layers;
  std::vector<Tensor> recent_ids;  // each [batch, 1]
  int64_t position = 0;            // tokens consumed so far
};

// Token embedding (+ previous tokens, + positions) -> N blocks -> final norm -> output head.
// The residual projections (each mixer's and FFN's output layer) are scaled at init
// by 1/sqrt(2N): see layers/init.h.
class TransformerLM : public Module {
 public:
  TransformerLM(const TransformerConfig& config, const MixerFactory& make_mixer);
  // ids [batch, n] -> logits [batch, n, vocab]. key_padding_mask [batch, n], 1 = pad.
  Tensor forward(const Tensor& ids, const Tensor& key_padding_mask = Tensor());

  // Incremental decoding (causal models): a fresh state, then one token at a time.
  DecodingState start_decoding(int64_t batch) const;
  // ids_t [batch] or [batch, 1] -> logits [batch, vocab] for the next token.
  Tensor step(const Tensor& ids_t, DecodingState& state);

  const TransformerConfig config;
  Generator gen;  // initialization, then dropout masks
  std::shared_ptr<Embedding> tokens;
  std::shared_ptr<LearnedPositions> learned_positions;
  std::vector<std::shared_ptr<Embedding>> previous_tokens;  // E_1 ... E_K, [vocab + 1, d_model]
  std::vector<std::shared_ptr<TransformerBlock>> blocks;
  std::shared_ptr<Norm> final_norm;
  std::shared_ptr<Linear> head;  // null when tied
  std::shared_ptr<Dropout> embedding_dropout;

 private:
  // Token, previous-token and position embeddings of ids [batch, n] starting at
  // position `offset`; `before` holds the ids of the K tokens before ids (newest
  // first, [batch, 1] each; fewer at the start of a sequence).
  Tensor embed(const Tensor& ids, int64_t offset, const std::vector<Tensor>& before);
  Tensor logits(const Tensor& h) const;
};

}  // namespace ta

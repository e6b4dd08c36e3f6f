// attention/gau.h — the Gated Attention Unit of FLASH (Hua et al. 2022, "Transformer
// Quality in Linear Time") as a TokenMixer: FLASH-Quad and FLASH.
//
// From the (normalized) input x [batch, n, d_model]:
//   [U | V | Z] = SiLU(x W + b)           U, V [n, e] (e = 2 d_model), Z [n, s] (s = 128)
//   Qq, Kq, Ql, Kl = Z * gamma_r + beta_r  per-dimension scale-offsets of the shared Z
//   A V                                    squared-ReLU attention (attention/flash_attention.h):
//                                          FLASH-Quad, over the whole sequence;
//                                          FLASH, quadratic within chunks of c plus linear
//                                          across chunks (Ql, Kl)
//   out = (U * A V) W_o + b_o              the gate, then back to d_model
//
// One GAU has a single head, and with e = 2 d_model it holds about as many weights
// as an attention layer and a feed-forward layer together, which it replaces: a FLASH
// model with the layer budget of an N-layer Transformer has 2N GAU layers
// (TransformerConfig::feed_forward = false, n_layers = 2N).
//
// Norm and residual: the GAU leaves both to the TransformerBlock that wraps it, which
// computes x + GAU(norm(x)) (pre-norm). So the block gives the paper's "with a
// residual" and the normalized input; choose TransformerConfig::norm = ScaleNorm for
// the paper's FLASH. The GAU itself maps norm(x) to the residual update only.
//
// Positions: a relative position bias on the scores (the paper's GAU; T5 buckets, one
// head, given to the kernel as a per-offset table) by default, or RoPE on the
// queries and keys (rotary_dims > 0), or neither.
#pragma once

#include <memory>

#include "core/attention/flash_options.h"
#include "layers/linear.h"
#include "layers/position.h"
#include "layers/token_mixer.h"

namespace ta {

class GatedAttentionUnit : public TokenMixer {
 public:
  struct Options {
    int64_t d_model = 128;
    int64_t expansion = 0;  // e, the width of U and V; 0: 2 d_model
    int64_t s = 128;        // the width of the shared base Z, and so of queries and keys
    int64_t chunk = 256;    // FLASH: positions per chunk; 0: FLASH-Quad (one block over the sequence)
    bool linear = true;     // FLASH: linear attention across chunks (false: each chunk only sees itself)
    bool causal = true;
    FlashScaling scaling = FlashScaling::RowCount;  // see core/attention/flash_options.h and flash_options() below
    bool relative_bias = true;
    int64_t rotary_dims = 0;    // > 0: RoPE on that many dimensions of the queries and keys
    int64_t scaling_length = 0;  // FlashScaling::Length in FLASH-Quad: the fixed n of relu(q.k / n)^2
                                 // (0: each input's own n); not the length-aware softmax scale
    bool fused = true;          // the fused kernel; false: the reference from autograd ops
    float init_std = 0.02f;     // weights, and gamma (the paper's N(0, 0.02)); beta starts at 0
  };
  GatedAttentionUnit(const Options& options, Generator& gen);

  Tensor forward(const Tensor& x, const Tensor& key_padding_mask = Tensor()) override;
  bool causal() const override { return options.causal; }
  const char* name() const override { return options.chunk > 0 ? "flash" : "flash-quad"; }
  std::vector<Tensor> residual_output_weights() const override { return {out->weight}; }

  // Decoding: FLASH keeps the running cross-chunk state (sum of Kl^T V over the
  // completed chunks) plus the current chunk's keys and values; FLASH-Quad keeps
  // every past key and value.
  std::unique_ptr<MixerState> start_decoding(int64_t batch) const override;
  Tensor step(const Tensor& x_t, MixerState& state) override;

  // The kernel's options for a sequence of n positions.
  FlashOptions flash_options(int64_t n) const;
  // Scale-offset planes: 4 (quad q, quad k, linear q, linear k) or 2 (no linear part).
  int64_t planes() const { return options.chunk > 0 && options.linear ? 4 : 2; }

  Options options;
  int64_t e;
  std::shared_ptr<Linear> hidden;  // d_model -> [U | V | Z], 2 e + s
  std::shared_ptr<Linear> out;     // e -> d_model
  Tensor gamma, beta;              // [planes, s]
  std::shared_ptr<RelativePositionBias> bias;  // null without relative_bias

 private:
  // x [b, n, d_model] at positions offset.. -> gate U [b, n, e], values V [b, n, e],
  // queries and keys qk [planes, b, n, s].
  void project(const Tensor& x, int64_t offset, Tensor& u, Tensor& v, Tensor& qk) const;
  std::unique_ptr<RotaryEmbedding> rope_;
};

}  // namespace ta

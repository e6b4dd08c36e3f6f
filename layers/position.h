// layers/position.h — telling attention where each token is.
//
// Attention by itself is blind to order. Four ways to add position:
//   - learned absolute vectors added to the token embeddings (GPT-2);
//   - fixed sinusoids added the same way (Vaswani et al.), defined at any length;
//   - rotary embeddings (RoPE, Su et al.), rotating q and k so that q.k depends only
//     on the relative offset of the two positions;
//   - a learned bias per head on the attention scores, shared by offsets that fall
//     in the same logarithmic bucket (T5, Raffel et al.).
#pragma once

#include "core/causality.h"
#include "layers/module.h"

namespace ta {

class LearnedPositions : public Module {
 public:
  LearnedPositions(int64_t max_len, int64_t dim, Generator& gen, float init_std = 0.02f);
  // The vectors of positions offset .. offset + n - 1: [n, dim].
  Tensor forward(int64_t n, int64_t offset = 0) const;
  int64_t max_len;
  Tensor weight;  // [max_len, dim]
};

// PE[p, 2i] = sin(p / 10000^(2i/dim)), PE[p, 2i+1] = cos(p / 10000^(2i/dim)), for
// p = offset .. offset + n - 1: [n, dim]. dim must be even.
Tensor sinusoidal_positions(int64_t n, int64_t dim, int64_t offset = 0);

// Rotary position embedding on the first `rotary_dims` dimensions of each head
// (the rest pass through), in the "rotate half" pairing: dimension i is paired with
// i + r/2. For position p and pair i, with theta_i = base^(-2i/r):
//   (x_i, x_{i+r/2}) -> (x_i cos(p theta_i) - x_{i+r/2} sin(p theta_i),
//                        x_{i+r/2} cos(p theta_i) + x_i sin(p theta_i))
// A rotation keeps norms, and rotating q by angle p theta and k by angle p' theta
// makes q.k a function of p - p' only.
class RotaryEmbedding {
 public:
  RotaryEmbedding(int64_t head_dim, int64_t rotary_dims, float base = 10000.0f);
  // x [..., n, head_dim] at positions offset .. offset + n - 1.
  Tensor apply(const Tensor& x, int64_t offset = 0) const;
  int64_t head_dim, rotary_dims;
  float base;
};

// T5's relative position bias: offsets k - q are put into buckets (exact for small
// offsets, logarithmic up to max_distance, then clipped), and each bucket has one
// learned bias per head, added to the attention scores. Causal attention never sees
// a key after its query, so all its buckets go to offsets <= 0; bidirectional
// attention splits them between the two directions.
class RelativePositionBias : public Module {
 public:
  RelativePositionBias(int64_t heads, Causality causality, Generator& gen, int64_t num_buckets = 32,
                       int64_t max_distance = 128);
  // The bucket of offset (key - query), as in T5.
  static int64_t bucket(int64_t relative_position, Causality causality, int64_t num_buckets, int64_t max_distance);
  // Bias for queries at q_offset .. q_offset + q_len - 1 and keys 0 .. k_len - 1:
  // [heads, q_len, k_len].
  Tensor forward(int64_t q_len, int64_t k_len, int64_t q_offset = 0) const;
  int64_t heads, num_buckets, max_distance;
  Causality causality;
  Tensor weight;  // [num_buckets, heads]
};

}  // namespace ta

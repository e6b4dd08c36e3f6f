// attention/performer.h — Performer attention, FAVOR+ (Choromanski et al. 2020,
// "Rethinking Attention with Performers"): softmax attention through random
// features, in time and memory linear in n.
//
// The softmax kernel is an expectation over Gaussian vectors w ~ N(0, I_d):
//   exp(x.y) = E_w[ exp(w.x - |x|^2/2) exp(w.y - |y|^2/2) ],
// so with m samples w_1..w_m (the rows of W [m, d]) and the positive features
//   phi(x) = exp(W x - |x|^2/2) / sqrt(m)      (every entry > 0),
// phi(x).phi(y) is an unbiased estimate of exp(x.y). With q' = q d^-1/4 and
// k' = k d^-1/4 (q'.k' = q.k/sqrt(d), the softmax's scaled score), attention is
//   out_i = sum_j phi(q'_i).phi(k'_j) v_j / sum_j phi(q'_i).phi(k'_j),
// and by associativity, with Q' = phi(Q), K' = phi(K) [n, m]:
//   bidirectional: out = Q' (K'^T V) / Q' (K'^T 1)            O(n m d), no n x n matrix;
//   causal:        out_i = phi(q_i)^T S_i / phi(q_i).z_i,  S_i = sum_{j<=i} phi(k_j) v_j^T,
//                  z_i = sum_{j<=i} phi(k_j)                    (prefix sums).
// Orthogonal rows (blocks of an orthogonal matrix, rescaled to Gaussian lengths)
// lower the estimator's variance; the positive features, unlike sin/cos ones, give
// small kernel values with small error and never a negative denominator.
//
// The ReLU kernel (the paper's "generalized attention" with f = ReLU) replaces the
// softmax kernel by relu(W q').relu(W k'). What the core computes is, with the same
// q' = q d^-1/4 and k' = k d^-1/4 (the square root of the score scale on each side),
//   phi(x') = relu(W x') + 1e-3          (no 1/sqrt(m): a constant factor cancels),
//   out_i = sum_j phi(q'_i).phi(k'_j) v_j / sum_j phi(q'_i).phi(k'_j),
// the 1e-3 keeping every denominator above 0 (a query whose projections are all
// negative would otherwise see no key). favor_features(.., Relu) is the paper's plain
// map relu(W x)/sqrt(m), for studies.
//
// Numerical stabilizers, without gradient: the 1/sqrt(m), a constant per query row
// (its largest exponent) and a constant for the keys all cancel between numerator
// and denominator, so they are subtracted inside the exp: no overflow at any
// length. The key constant is the maximum key exponent over everything the query
// may see: per (batch, head) bidirectionally, and causally the running maximum up
// to the query's own position (a constant over all n would let query i depend on
// later keys through its bits, and could underflow early rows entirely). The
// running maximum is folded in like the online softmax of the fused softmax kernel.
//
// Two computations of the same function: the reference core, written with autograd
// ops (causal as a masked n x n product: short, quadratic memory), and the fused
// causal kernel (ta::favor_causal_attention, chunked, extra memory O(m d) per head),
// which the registry's "performer" uses; bidirectional attention is associativity
// in a few matrix products either way. A NaN or inf at a later or padded position
// reaches no output that may not see it (attention/non_finite.h): the kernel skips
// hidden pairs, the causal reference computes on finite inputs and marks the outputs
// that see a non-finite one, and the bidirectional form reads padded rows as 0.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "attention/attention_core.h"

namespace ta {

enum class FeatureMap {
  Positive,       // exp(w.x - |x|^2/2) / sqrt(m)                                  m features
  Hyperbolic,     // exp(-|x|^2/2) / sqrt(2m) [exp(w.x), exp(-w.x)]                 2m features
  Trigonometric,  // exp(|x|^2/2) / sqrt(m) [sin(w.x), cos(w.x)]  (comparison only)  2m features
  Relu,           // relu(w.x) / sqrt(m): the ReLU kernel, not softmax             m features
};                // (the forms of favor_features; the core's stabilized forms are above)
const char* feature_map_name(FeatureMap map);

// How the rows of an orthogonal block are rescaled: to the length of a Gaussian
// row (chi_d: then each row is marginally N(0, I_d) and the estimate stays
// unbiased), or all to sqrt(d).
enum class RowNorms { Chi, Sqrt };

// How the rows of the random features are drawn: orthogonal blocks, or i.i.d.
enum class FeatureRows { Orthogonal, Iid };

// The random features W [m, d]: i.i.d. N(0, 1) entries, or orthogonal: ceil(m/d)
// blocks, each the orthonormalized rows of a d x d Gaussian matrix (QR by Gram-
// Schmidt on the host, in double), stacked, cut to m rows and rescaled per `norms`
// (Chi: each row keeps the length its Gaussian row had, which is independent of the
// directions). From the same generator state, the orthogonal W is the i.i.d. one
// with each block's directions orthogonalized.
Tensor draw_features(int64_t m, int64_t d, FeatureRows rows, Generator& gen, RowNorms norms = RowNorms::Chi);

// phi(x) of the paper exactly as written, for rows x [..., d] and features w
// [m, d] -> [..., m or 2m]: no scaling of x, no stabilizer. Values only (no
// gradient; the map applied on the host), for the studies of the estimator:
// unbiasedness and error tables. The cores compute stabilized features instead.
Tensor favor_features(const Tensor& x, const Tensor& w, FeatureMap map);

class PerformerCore : public AttentionCore {
 public:
  struct Options {
    int64_t features = 256;          // m, the number of random features
    FeatureMap map = FeatureMap::Positive;  // Positive, Hyperbolic or Relu
    bool orthogonal = true;
    RowNorms norms = RowNorms::Chi;
    int64_t redraw_interval = 1000;  // new features every K training steps; 0: never
    bool fused = true;               // causal mode through the fused kernel (else the reference)
    uint64_t seed = 0;               // of the feature draws
  };
  PerformerCore(const Options& options, AttentionScale scale, int64_t d_head);

  // In training mode with grad mode on, every call counts a training step and,
  // every redraw_interval steps, first redraws the features (never in eval mode).
  Tensor forward(const Tensor& q, const Tensor& k, const Tensor& v, Causality causal,
                 const Tensor& key_padding_mask) override;
  const char* name() const override;

  // Decoding by the recurrence: the state holds S = sum phi(k_j) [v_j | 1]^T and
  // the running key maximum; each step adds one key and reads one query.
  std::unique_ptr<MixerState> start_decoding(int64_t batch) const override;
  Tensor step(const Tensor& q, const Tensor& k, const Tensor& v, MixerState& state) override;

  // FAVOR+'s attention weights of query i: phi(q_i).phi(k_j) normalized over the
  // keys it sees.
  Tensor query_weights(const Tensor& q, const Tensor& k, int64_t i, Causality causal) override;

  // The reference computation from autograd ops (what the fused kernel is tested
  // against); causal mode materializes the masked n_q x n_k weights.
  Tensor reference_forward(const Tensor& q, const Tensor& k, const Tensor& v, Causality causal,
                           const Tensor& key_padding_mask) const;
  // Draws the features of draw number `index` (index 0 at construction) from
  // (seed, index) alone, so any draw can be reproduced.
  Tensor draw(int64_t index) const;
  void redraw(int64_t index);
  int64_t training_steps() const;

  const Options options;
  const int64_t d_head;
  // Buffers, saved in checkpoints: W [m, d_head], and the count of training
  // steps [1] (exact up to 2^24), which fixes when the next redraw comes.
  Tensor features, steps;

 private:
  // W, or [W; -W] for the hyperbolic map; a copy, so a later redraw cannot change
  // what an earlier forward's backward reads.
  Tensor projection() const;
  // The features of one call, stabilized (see performer.cpp), and on the host the
  // largest exponent of each key row (kPadded for padded keys) and each key's
  // stabilizer M_j, [batch * heads * n_k].
  struct Stabilized {
    Tensor qf, kf;
    std::vector<float> key_row_max, key_max;
  };
  Stabilized stabilized_features(const Tensor& q, const Tensor& k, Causality causal,
                                 const Tensor& key_padding_mask) const;
  void count_training_step();
};

// Backward compatibility (the paper's point that a trained softmax Transformer can
// be switched to FAVOR+ and fine-tuned): loads the weights `state` of a model
// trained with softmax attention into the same model built with Performer cores.
// Every parameter is loaded by name; a buffer that `state` lacks (the Performer
// cores' features and step count) keeps the model's own value. All or nothing:
// a missing or mis-shaped parameter, or a name the model lacks, throws and changes
// nothing. From a file: load_softmax_weights(model, read_safetensors(path).tensors).
void load_softmax_weights(Module& model, const std::map<std::string, Tensor>& state);

}  // namespace ta

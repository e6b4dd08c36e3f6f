// attention/nystrom.h — Nystromformer (Xiong et al. 2021): softmax attention
// approximated through m landmarks, in O(n m) time and memory.
#pragma once

#include "attention/attention_core.h"

namespace ta {

// With landmarks q~, k~ (means of consecutive segments of the queries and keys),
//   F = softmax(q k~^T s)  [n, m],  A = softmax(q~ k~^T s)  [m, m],  B = softmax(q~ k^T s)  [m, n]
//   out = F A^+ (B v)
// where A^+, the Moore-Penrose pseudo-inverse, comes from the paper's iteration
//   Z_0 = A^T / (||A||_1 ||A||_inf),  Z <- Z (13 I - A Z (15 I - A Z (7 I - A Z))) / 4
// (6 iterations by default, the paper's). With as many landmarks as tokens, q~ = q,
// k~ = k and F = A = B = P (the exact softmax matrix), so out = P Z P v, which is exact
// attention P v only once Z has converged to P^-1; 6 iterations are not enough for that
// (at n = 32, 3.5% off; 16 iterations, 7e-5: tests/attention/test_nystrom.cpp).
// Optionally a depthwise convolution over the sequence of v is added as a skip
// (the paper's kernel of 33). Bidirectional only: a landmark averages over a whole
// segment, future tokens included, so there is no causal mode. What an output may not
// see is then the padding: padded positions are left out of the landmarks, the
// convolution and every product (read as 0, not weighted by 0), so a NaN there moves
// no other output; a NaN at an unpadded position reaches every output, as every
// output depends on every position through the landmarks.
class NystromCore : public AttentionCore {
 public:
  struct Options {
    int64_t landmarks = 64;
    int64_t pinv_iterations = 6;  // of the pseudo-inverse (the paper's 6)
    int64_t conv_kernel = 0;  // 0: no convolution skip; else odd, e.g. 33
    int64_t heads = 4;        // for the per-head convolution weights
  };
  NystromCore(const Options& options, AttentionScale scale, Generator& gen);
  Tensor forward(const Tensor& q, const Tensor& k, const Tensor& v, Causality causal,
                 const Tensor& key_padding_mask) override;
  const char* name() const override { return "nystrom"; }

  Options options;
  Tensor conv_weight;  // [heads, kernel] when conv_kernel > 0
};

// The iterative pseudo-inverse of a batch of square matrices a [..., m, m].
Tensor iterative_pinv(const Tensor& a, int64_t iterations);

}  // namespace ta

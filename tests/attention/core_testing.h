// tests/attention/core_testing.h — helpers shared by the tests of the attention
// cores: random inputs, q, k, v and padding, one forward + backward of a core, and
// the comparison of a fused core with its reference.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "attention/attention_core.h"
#include "autograd/engine.h"
#include "core/tensor.h"

namespace ta::testing {

// max |a - b| / max |b|, with max |b| floored at `floor`: a reference that is exactly
// zero (one key: softmax has no gradient) is matched at rounding-error size.
inline float relative_error(const Tensor& a, const Tensor& b, float floor = 1e-2f) {
  std::vector<float> x = a.to_vector(), y = b.to_vector();
  REQUIRE(x.size() == y.size());
  float diff = 0.0f, scale = 0.0f;
  for (size_t i = 0; i < x.size(); ++i) {
    diff = std::max(diff, std::fabs(x[i] - y[i]));
    scale = std::max(scale, std::fabs(y[i]));
  }
  return diff / std::max(scale, floor);
}

struct Qkv {
  Tensor q, k, v, grad_out;
};

// q [batch, heads, n_q, d] and k [.., n_k, d] with entries of std qk_std, v with std 1,
// all requiring gradients, and an upstream gradient for the output.
inline Qkv make_qkv(int64_t batch, int64_t heads, int64_t n_q, int64_t n_k, int64_t d, uint64_t seed,
                    float qk_std = 1.0f) {
  Generator g(seed);
  return {Tensor::normal(Shape{batch, heads, n_q, d}, 0, qk_std, g).set_requires_grad(),
          Tensor::normal(Shape{batch, heads, n_k, d}, 0, qk_std, g).set_requires_grad(),
          Tensor::normal(Shape{batch, heads, n_k, d}, 0, 1, g).set_requires_grad(),
          Tensor::normal(Shape{batch, heads, n_q, d}, 0, 1, g)};
}

// x [batch, n, d] of standard normal entries: a mixer's input.
inline Tensor input(int64_t batch, int64_t n, int64_t d, uint64_t seed) {
  Generator g(seed);
  return Tensor::normal(Shape{batch, n, d}, 0.0f, 1.0f, g);
}

// A key padding mask [2, n_k] for a batch of 2: sample 0 unpadded, sample 1 padded
// at keys first, first + every, first + 2 every, ...
inline Tensor sample_one_padded(int64_t n_k, int64_t first, int64_t every) {
  std::vector<float> pad(2 * n_k, 0.0f);
  for (int64_t j = first; j < n_k; j += every) pad[n_k + j] = 1.0f;
  return Tensor::from_vector(pad, Shape{2, n_k});
}

struct Result {
  Tensor out, dq, dk, dv;
};

// A fused core's output and input gradients against its reference's.
inline void check_matches(const Result& fused, const Result& ref, float out_tol, float grad_tol) {
  CHECK(relative_error(fused.out, ref.out) < out_tol);
  CHECK(relative_error(fused.dq, ref.dq) < grad_tol);
  CHECK(relative_error(fused.dk, ref.dk) < grad_tol);
  CHECK(relative_error(fused.dv, ref.dv) < grad_tol);
}

// One forward and backward of `core`; the inputs' old gradients are cleared first.
inline Result run(AttentionCore& core, const Qkv& in, bool causal, const Tensor& mask) {
  for (Tensor t : {in.q, in.k, in.v}) t.zero_grad();
  Tensor out = core.forward(in.q, in.k, in.v, causality_if(causal), mask);
  backward(out, in.grad_out);
  return {out, in.q.grad(), in.k.grad(), in.v.grad()};
}

}  // namespace ta::testing

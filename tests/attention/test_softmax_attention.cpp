// tests/attention/test_softmax_attention.cpp — the method-specific tests of exact
// softmax attention: the fused core equals the reference core (forward and
// gradients), and the length-aware scale.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "attention/softmax.h"
#include "autograd/engine.h"
#include "core/error.h"
#include "autograd/ops.h"
#include "tests/attention/core_testing.h"

using namespace ta;
using namespace ta::testing;


TEST_CASE("fused softmax attention equals the reference core, forward and gradients") {
  struct Case {
    int64_t n_q, n_k, d;
    bool causal, padded;
  };
  const Case cases[] = {{1, 1, 8, false, false},   {7, 7, 8, true, false},     {67, 67, 16, true, false},
                        {67, 67, 16, false, true}, {130, 200, 32, false, false}, {129, 300, 32, true, true},
                        {5, 300, 16, true, false}, {1000, 1000, 64, true, false}, {95, 95, 16, false, false},
                        {96, 96, 16, true, false},   {97, 130, 32, true, true},   {193, 193, 16, true, false},
                        {40, 255, 16, false, false}, {256, 256, 16, true, false}, {97, 257, 32, true, true},
                        {600, 600, 16, true, true}};
  for (const Case& c : cases) {
    CAPTURE(c.n_q);
    CAPTURE(c.n_k);
    CAPTURE(c.causal);
    CAPTURE(c.padded);
    Qkv in = make_qkv(2, 2, c.n_q, c.n_k, c.d, 7 + c.n_q);
    Tensor mask = c.padded ? sample_one_padded(c.n_k, 0, 4) : Tensor();
    AttentionScale scale{1.0f / std::sqrt(static_cast<float>(c.d))};
    SoftmaxReferenceCore reference(scale);
    SoftmaxFusedCore fused(scale);
    const Result r = run(reference, in, c.causal, mask);
    check_matches(run(fused, in, c.causal, mask), r, 1e-5f, 1e-5f);
  }
}

TEST_CASE("fused softmax attention: a query with every key padded gives 0, not NaN") {
  Qkv in = make_qkv(1, 1, 3, 3, 4, 1);
  Tensor all_padded = Tensor::ones(Shape{1, 3});
  SoftmaxFusedCore fused(AttentionScale{0.5f});
  Result f = run(fused, in, false, all_padded);
  for (float v : f.out.to_vector()) CHECK(v == 0.0f);
  for (float v : f.dq.to_vector()) CHECK(v == 0.0f);
}

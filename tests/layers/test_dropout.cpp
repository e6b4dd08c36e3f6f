// tests/layers/test_dropout.cpp — Dropout: the identity in eval mode and for p = 0, the
// fraction dropped and the scale of the survivors over 100k elements, the same mask
// for the same seed, and its gradient in train mode.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "autograd/ops.h"
#include "layers/dropout.h"
#include "tests/layers/layer_testing.h"

using ta::Shape;
using ta::Tensor;
using namespace ta::testing;

// ---- Dropout -------------------------------------------------------------------------

TEST_CASE("dropout: the identity in eval mode and for p = 0") {
  ta::Generator gen(11);
  Tensor x = randn({4, 5}, 12);
  ta::Dropout drop(0.5f, gen);
  drop.eval();
  CHECK(max_abs_diff(drop.forward(x), x) == 0.0f);
  CHECK(gen.offset == 0);  // nothing drawn
  ta::Dropout none(0.0f, gen);
  CHECK(none.training());
  CHECK(max_abs_diff(none.forward(x), x) == 0.0f);
  CHECK_THROWS_AS(ta::Dropout(1.0f, gen), ta::Error);
  CHECK_THROWS_AS(ta::Dropout(-0.1f, gen), ta::Error);
}

TEST_CASE("dropout: drops about p of 100k elements, scales survivors by 1/(1-p), same seed same mask") {
  for (float p : {0.1f, 0.3f, 0.75f}) {
    CAPTURE(p);
    ta::Generator gen(13);
    ta::Dropout drop(p, gen);
    const int64_t n = 100000;
    Tensor x = Tensor::ones({n});
    std::vector<float> y = drop.forward(x).to_vector();
    int64_t dropped = 0;
    bool survivors_scaled = true;
    for (float v : y) {
      if (v == 0.0f)
        ++dropped;
      else if (std::fabs(v - 1.0f / (1.0f - p)) > 1e-6f)
        survivors_scaled = false;
    }
    // The binomial standard deviation is at most sqrt(0.25 / 1e5) = 0.0016.
    CHECK(std::fabs(static_cast<double>(dropped) / n - p) < 0.01);
    CHECK(survivors_scaled);

    // Same seed, same mask; the generator moves on, so the next call draws another.
    ta::Generator gen2(13);
    ta::Dropout drop2(p, gen2);
    std::vector<float> y2 = drop2.forward(x).to_vector();
    CHECK(y2 == y);
    std::vector<float> y3 = drop2.forward(x).to_vector();
    CHECK(y3 != y);
  }
}

TEST_CASE("dropout: gradcheck in train mode, the mask replayed from a fresh generator copy each call") {
  ta::Generator gen(14);
  ta::Dropout drop(0.4f, gen);
  Tensor x = randn({3, 7}, 15).set_requires_grad();
  check_input_grads(
      [&](const Inputs& in) {
        gen = ta::Generator(14);
        return drop.forward(in[0]);
      },
      {x});
  // The gradient is the mask itself, scaled: zero where dropped.
  gen = ta::Generator(14);
  Tensor y = drop.forward(x);
  ta::backward(ta::sum(y));
  std::vector<float> yv = y.to_vector(), gv = x.grad().to_vector();
  for (size_t i = 0; i < yv.size(); ++i) CHECK(gv[i] == (yv[i] == 0.0f ? 0.0f : 1.0f / 0.6f));
}

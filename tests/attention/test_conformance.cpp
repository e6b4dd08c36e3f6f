// tests/attention/test_conformance.cpp — the conformance suite every registered
// attention variant passes. A new variant is checked by adding it to the registry
// (attention/registry.cpp); nothing here names a variant.
//
// For each variant and each mode it supports (causal, bidirectional):
//   shape and finiteness for several n (including sizes no block or chunk divides),
//   gradcheck of the whole mixer, same seed -> same output, batch independence,
//   padding: padded keys have no influence;
// and for causal modes: no leak from the future (bit for bit) and incremental
// decoding equal to the full pass.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "attention/registry.h"
#include "autograd/gradcheck.h"
#include "autograd/ops.h"
#include "core/kernels.h"

using namespace ta;

namespace {

struct Mode {
  std::string variant;
  bool causal;
  bool smooth = true;  // AttentionVariant::smooth
  std::string label() const { return variant + (causal ? " (causal)" : " (bidirectional)"); }
};

std::vector<Mode> all_modes() {
  std::vector<Mode> modes;
  for (const AttentionVariant& v : attention_variants()) {
    if (v.supports_causal) modes.push_back({v.name, true, v.smooth});
    if (v.supports_bidirectional) modes.push_back({v.name, false, v.smooth});
  }
  return modes;
}

std::shared_ptr<TokenMixer> build(const Mode& m, int64_t d_model = 16, int64_t heads = 2, uint64_t seed = 11) {
  AttentionConfig c;
  c.name = m.variant;
  c.causal = m.causal;
  c.d_model = d_model;
  c.heads = heads;
  c.init_std = 0.3f;  // larger than training's 0.02, so attention weights are far from uniform
  Generator gen(seed);
  return make_attention(c, gen);
}

Tensor input(int64_t batch, int64_t n, int64_t d, uint64_t seed) {
  Generator g(seed);
  return Tensor::normal(Shape{batch, n, d}, 0.0f, 1.0f, g);
}

// Rows [from, to) of sample b of y [batch, n, d], as a flat vector.
std::vector<float> rows(const Tensor& y, int64_t b, int64_t from, int64_t to) {
  Tensor s = narrow(narrow(y, 0, b, 1), 1, from, to - from);
  return s.to_vector();
}

// x with position `pos` of sample `b` replaced by fresh random values.
Tensor perturb(const Tensor& x, int64_t b, int64_t pos, uint64_t seed) {
  std::vector<float> v = x.to_vector();
  Generator g(seed);
  const int64_t n = x.size(1), d = x.size(2);
  for (int64_t c = 0; c < d; ++c) v[(b * n + pos) * d + c] = 3.0f * (g.next_uniform() - 0.5f);
  return Tensor::from_vector(v, x.shape());
}

bool all_finite(const Tensor& t) {
  for (float v : t.to_vector())
    if (!std::isfinite(v)) return false;
  return true;
}

}  // namespace

TEST_CASE("conformance: every variant gives finite outputs of the input's shape") {
  for (const Mode& m : all_modes())
    for (int64_t n : {1, 5, 17, 67, 130}) {
      CAPTURE(m.label());
      CAPTURE(n);
      auto mixer = build(m);
      Tensor y = mixer->forward(input(2, n, 16, 3));
      CHECK(y.shape() == Shape({2, n, 16}));
      CHECK(all_finite(y));
    }
}

TEST_CASE("conformance: gradcheck of the whole mixer") {
  for (const Mode& m : all_modes()) {
    CAPTURE(m.label());
    auto mixer = build(m, 8, 2);
    Tensor x = input(1, 6, 8, 5).set_requires_grad();
    GradcheckOptions options;
    if (!m.smooth) options.eps = 1e-3f;  // a step of 1e-2 would cross many kinks
    GradcheckResult r = gradcheck([&](const std::vector<Tensor>& in) { return mixer->forward(in[0]); }, {x}, options);
    CHECK_MESSAGE(r.ok, r.message);
  }
}

TEST_CASE("conformance: the same seed gives the same output, bit for bit") {
  for (const Mode& m : all_modes()) {
    CAPTURE(m.label());
    Tensor x = input(2, 9, 16, 7);
    CHECK(build(m, 16, 2, 42)->forward(x).to_vector() == build(m, 16, 2, 42)->forward(x).to_vector());
  }
}

TEST_CASE("conformance: batch elements are independent") {
  for (const Mode& m : all_modes()) {
    CAPTURE(m.label());
    auto mixer = build(m);
    Tensor x = input(2, 19, 16, 8);
    Tensor y = mixer->forward(x), y2 = mixer->forward(perturb(perturb(x, 1, 0, 1), 1, 18, 2));
    CHECK(rows(y, 0, 0, 19) == rows(y2, 0, 0, 19));
  }
}

TEST_CASE("conformance: padded keys have no influence on the other positions") {
  for (const Mode& m : all_modes()) {
    CAPTURE(m.label());
    auto mixer = build(m);
    const int64_t n = 13;
    std::vector<float> pad(2 * n, 0.0f);
    for (int64_t j : {3, 10, 11, 12}) pad[n + j] = 1.0f;  // sample 1: positions 3, 10, 11, 12 padded
    Tensor mask = Tensor::from_vector(pad, Shape{2, n});
    Tensor x = input(2, n, 16, 9);
    Tensor y = mixer->forward(x, mask);
    Tensor y2 = mixer->forward(perturb(perturb(x, 1, 3, 4), 1, 11, 5), mask);
    CHECK(all_finite(y));
    std::vector<float> a = rows(y, 1, 0, 3), b = rows(y2, 1, 0, 3);
    std::vector<float> a2 = rows(y, 1, 4, 10), b2 = rows(y2, 1, 4, 10);
    for (size_t i = 0; i < a.size(); ++i) CHECK(a[i] == doctest::Approx(b[i]).epsilon(1e-5));
    for (size_t i = 0; i < a2.size(); ++i) CHECK(a2[i] == doctest::Approx(b2[i]).epsilon(1e-5));
  }
}

TEST_CASE("conformance: causal variants never read the future, to the last bit") {
  for (const Mode& m : all_modes()) {
    if (!m.causal) continue;
    CAPTURE(m.label());
    auto mixer = build(m);
    const int64_t n = 37;
    Tensor x = input(1, n, 16, 10);
    Tensor y = mixer->forward(x);
    for (int64_t j : {1, 7, 16, 17, 36}) {
      CAPTURE(j);
      Tensor y2 = mixer->forward(perturb(x, 0, j, 100 + j));
      CHECK(rows(y, 0, 0, j) == rows(y2, 0, 0, j));
    }
  }
}

TEST_CASE("conformance: incremental decoding equals the full causal pass") {
  for (const Mode& m : all_modes()) {
    if (!m.causal) continue;
    CAPTURE(m.label());
    auto mixer = build(m);
    const int64_t n = 21;
    Tensor x = input(2, n, 16, 12);
    Tensor full = mixer->forward(x);
    // Each output is a sum of terms of about the largest output's size, which a
    // recurrent state (Performer's running sums over m = 256 features) adds in
    // another order than the full pass: rounding then differs at about 1e-7 of
    // that size, so the floor of the tolerance scales with it.
    float largest = 0.0f;
    for (float v : full.to_vector()) largest = std::max(largest, std::fabs(v));
    auto state = mixer->start_decoding(2);
    for (int64_t t = 0; t < n; ++t) {
      Tensor y_t = mixer->step(narrow(x, 1, t, 1), *state);
      std::vector<float> a = y_t.to_vector(), b = narrow(full, 1, t, 1).to_vector();
      for (size_t i = 0; i < a.size(); ++i) CHECK(a[i] == doctest::Approx(b[i]).epsilon(1e-4).scale(0.1f * largest));
    }
  }
}

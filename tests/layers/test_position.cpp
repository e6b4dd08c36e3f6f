// tests/layers/test_position.cpp — the position encodings of layers/position.h by
// value: rotary embeddings (norms kept, q.k a function of the offset only, partial
// rotation, offsets), sinusoids at a few points worked out by hand, T5's relative
// position buckets against a table written out by hand from the T5 formula, the
// relative bias and learned positions as lookups, and the argument errors.
//
// Not here: gradient checks of these layers (test_block_gradients.cpp).
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "autograd/ops.h"
#include "core/error.h"
#include "layers/init.h"
#include "layers/position.h"

namespace {

using ta::Shape;
using ta::Tensor;

Tensor randn(const Shape& shape, uint64_t seed) {
  ta::Generator gen(seed);
  return Tensor::normal(shape, 0.0f, 1.0f, gen);
}

double dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0.0;
  for (size_t i = 0; i < a.size(); ++i) s += static_cast<double>(a[i]) * b[i];
  return s;
}

// v rotated as one token [1, head_dim] at `position`.
std::vector<float> rotate_at(const ta::RotaryEmbedding& rope, const std::vector<float>& v, int64_t position) {
  return rope.apply(Tensor::from_vector(v, {1, static_cast<int64_t>(v.size())}), position).to_vector();
}

}  // namespace

// ---- rotary --------------------------------------------------------------------------

TEST_CASE("rope: keeps the norm of every head vector") {
  ta::RotaryEmbedding rope(16, 16);
  Tensor x = randn({2, 3, 7, 16}, 1);  // [batch, heads, n, head_dim]
  std::vector<float> in = x.to_vector(), out = rope.apply(x, 5).to_vector();
  REQUIRE(out.size() == in.size());
  for (size_t row = 0; row < in.size() / 16; ++row) {
    std::vector<float> a(in.begin() + row * 16, in.begin() + (row + 1) * 16);
    std::vector<float> b(out.begin() + row * 16, out.begin() + (row + 1) * 16);
    CHECK(std::sqrt(dot(b, b)) == doctest::Approx(std::sqrt(dot(a, a))).epsilon(1e-5));
  }
  // Position 0 is the identity.
  std::vector<float> first = rope.apply(x, 0).to_vector();
  for (size_t i = 0; i < 16; ++i) CHECK(first[i] == doctest::Approx(in[i]).epsilon(1e-6));
}

TEST_CASE("rope: q.k after rotation depends only on the relative position") {
  ta::RotaryEmbedding rope(8, 8);
  const std::vector<float> q = randn({8}, 2).to_vector(), k = randn({8}, 3).to_vector();
  auto score = [&](int64_t p, int64_t p_prime) { return dot(rotate_at(rope, q, p), rotate_at(rope, k, p_prime)); };
  // Offset +2: q two positions after k.
  const double s31 = score(3, 1);
  CHECK(score(10, 8) == doctest::Approx(s31).epsilon(1e-4));
  CHECK(score(2, 0) == doctest::Approx(s31).epsilon(1e-4));
  CHECK(score(102, 100) == doctest::Approx(s31).epsilon(1e-4));
  // Offset -3: q three positions before k.
  const double s14 = score(1, 4);
  CHECK(score(7, 10) == doctest::Approx(s14).epsilon(1e-4));
  CHECK(score(50, 53) == doctest::Approx(s14).epsilon(1e-4));
  // Offset 0 is the plain dot product.
  CHECK(score(9, 9) == doctest::Approx(dot(q, k)).epsilon(1e-4));
  // And the offset does matter.
  CHECK(std::fabs(score(3, 2) - s31) > 1e-3);
  CHECK(std::fabs(s14 - s31) > 1e-3);
  // A block of positions at an offset equals the rotation at each position.
  Tensor qs = Tensor::from_vector(std::vector<float>(q.begin(), q.end()), {1, 8});
  Tensor block = rope.apply(ta::concat({qs, qs, qs}, 0), 4);  // positions 4, 5, 6
  std::vector<float> bv = block.to_vector(), at6 = rotate_at(rope, q, 6);
  for (int i = 0; i < 8; ++i) CHECK(bv[16 + i] == doctest::Approx(at6[i]).epsilon(1e-6));
}

TEST_CASE("rope: values by hand; rotary_dims < head_dim passes the other dims through") {
  // head_dim 6, rotary_dims 4: pairs (0, 2) and (1, 3) with theta_0 = 10000^0 = 1 and
  // theta_1 = 10000^(-2/4) = 0.01; dims 4 and 5 unchanged. At position 2 the angles
  // are 2 and 0.02.
  ta::RotaryEmbedding rope(6, 4);
  const std::vector<float> x = {1, 2, 3, 4, 5, 6};
  std::vector<float> y = rotate_at(rope, x, 2);
  const double c0 = std::cos(2.0), s0 = std::sin(2.0), c1 = std::cos(0.02), s1 = std::sin(0.02);
  CHECK(y[0] == doctest::Approx(1 * c0 - 3 * s0).epsilon(1e-5));
  CHECK(y[2] == doctest::Approx(3 * c0 + 1 * s0).epsilon(1e-5));
  CHECK(y[1] == doctest::Approx(2 * c1 - 4 * s1).epsilon(1e-5));
  CHECK(y[3] == doctest::Approx(4 * c1 + 2 * s1).epsilon(1e-5));
  CHECK(y[4] == 5.0f);
  CHECK(y[5] == 6.0f);
  CHECK(y[0] == doctest::Approx(-3.1440391).epsilon(1e-5));  // cos 2 - 3 sin 2

  // The pass-through part of a whole tensor is bit-identical.
  ta::RotaryEmbedding half(8, 2);
  Tensor t = randn({3, 5, 8}, 4);
  std::vector<float> in = t.to_vector(), out = half.apply(t, 7).to_vector();
  for (size_t row = 0; row < in.size() / 8; ++row)
    for (size_t i = 2; i < 8; ++i) CHECK(out[row * 8 + i] == in[row * 8 + i]);

  CHECK_THROWS_AS(ta::RotaryEmbedding(8, 3), ta::Error);   // odd
  CHECK_THROWS_AS(ta::RotaryEmbedding(8, 10), ta::Error);  // more than head_dim
  CHECK_THROWS_AS(ta::RotaryEmbedding(8, 0), ta::Error);
  CHECK_THROWS_WITH_AS(rope.apply(Tensor::zeros({3, 8}), 0), doctest::Contains("expected x [..., n, 6]"), ta::Error);
}

// ---- sinusoids -----------------------------------------------------------------------

TEST_CASE("sinusoidal positions: values by hand and offsets") {
  // dim 4: frequencies 1 and 10000^(-2/4) = 0.01.
  // PE[p] = [sin p, cos p, sin 0.01 p, cos 0.01 p].
  std::vector<float> pe = ta::sinusoidal_positions(3, 4).to_vector();
  const std::vector<float> expected = {
      0.0f,        1.0f,        0.0f,        1.0f,         // p = 0
      0.84147098f, 0.54030231f, 0.00999983f, 0.99995000f,  // p = 1
      0.90929743f, -0.41614684f, 0.01999867f, 0.99980001f,  // p = 2
  };
  REQUIRE(pe.size() == expected.size());
  for (size_t i = 0; i < pe.size(); ++i) CHECK(pe[i] == doctest::Approx(expected[i]).epsilon(1e-6).scale(1.0));

  // dim 8, position 5, pair i = 2: angle 5 / 10000^(4/8) = 0.05.
  Tensor pe8 = ta::sinusoidal_positions(6, 8);
  CHECK(pe8.at({5, 4}) == doctest::Approx(std::sin(0.05)).epsilon(1e-6));
  CHECK(pe8.at({5, 5}) == doctest::Approx(std::cos(0.05)).epsilon(1e-6));
  // An offset continues the same table.
  std::vector<float> tail = ta::sinusoidal_positions(2, 8, 4).to_vector(), all = pe8.to_vector();
  for (size_t i = 0; i < tail.size(); ++i) CHECK(tail[i] == all[32 + i]);
  CHECK_THROWS_AS(ta::sinusoidal_positions(3, 5), ta::Error);
}

// ---- T5 relative position buckets ------------------------------------------------------------
//
// T5 (relative_position = key - query; n = -relative_position):
//   bidirectional: half the buckets each way; keys after the query (n < 0) get
//     num_buckets/2 added, then n = |n|.  unidirectional: n = max(n, 0).
//   with nb the buckets per direction and max_exact = nb / 2:
//     n < max_exact:  bucket n
//     otherwise:      max_exact + floor(log(n / max_exact) / log(max_distance / max_exact)
//                                       * (nb - max_exact)), at most nb - 1.
//
// Bidirectional, 32 buckets, max_distance 128: nb = 16, max_exact = 8, and the
// large-n formula is 8 + floor(8 log16(n / 8)) = 8 + floor(2 log2(n / 8)). It
// reaches k where n >= 8 * 2^(k/2): 11.3, 16, 22.6, 32, 45.3, 64, 90.5, 128, so
//   n   0..7  8..11  12..15  16..22  23..31  32..45  46..63  64..90  91..
//   b   n     8      9       10      11      12      13      14      15
//
// Unidirectional, 32 buckets, max_distance 128: nb = 32, max_exact = 16, and
// 16 + floor(16 log8(n / 16)) = 16 + floor((16/3) log2(n / 16)), which reaches k
// where n >= 16 * 2^(3k/16): 18.2, 20.7, 23.6, 26.9, 30.6, 34.9, 39.7, 45.3, 51.5,
// 58.7, 66.8, 76.1, 86.7, 98.7, 112.4, 128, so
//   n   0..15  16..18  19..20  21..23  24..26  27..30  31..34  35..39  40..45  46..51
//   b   n      16      17      18      19      20      21      22      23      24
//   n   52..58  59..66  67..76  77..86  87..98  99..112  113..
//   b   25      26      27      28      29      30       31
// and keys after the query (n < 0) all share bucket 0.

TEST_CASE("relative position bias: T5 buckets, bidirectional, 32 buckets, max_distance 128") {
  struct Row {
    int64_t relative;  // key - query
    int64_t bucket;
  };
  const Row table[] = {
      // keys at or before the query: the first 16 buckets
      {0, 0}, {-1, 1}, {-7, 7}, {-8, 8}, {-11, 8}, {-12, 9}, {-15, 9}, {-16, 10}, {-20, 10}, {-22, 10},
      {-23, 11}, {-31, 11}, {-32, 12}, {-45, 12}, {-46, 13}, {-63, 13}, {-64, 14}, {-90, 14}, {-91, 15},
      {-127, 15}, {-128, 15}, {-500, 15},
      // keys after the query: the same distances, 16 buckets up
      {1, 17}, {7, 23}, {8, 24}, {11, 24}, {12, 25}, {15, 25}, {16, 26}, {20, 26}, {23, 27}, {32, 28},
      {46, 29}, {64, 30}, {90, 30}, {91, 31}, {127, 31}, {128, 31}, {500, 31},
  };
  for (const Row& r : table) {
    CAPTURE(r.relative);
    CHECK(ta::RelativePositionBias::bucket(r.relative, ta::Causality::Bidirectional, 32, 128) == r.bucket);
  }
}

TEST_CASE("relative position bias: T5 buckets, unidirectional, 32 buckets, max_distance 128") {
  struct Row {
    int64_t relative;
    int64_t bucket;
  };
  const Row table[] = {
      {0, 0}, {-1, 1}, {-7, 7}, {-8, 8}, {-15, 15}, {-16, 16}, {-18, 16}, {-19, 17}, {-20, 17}, {-21, 18},
      {-23, 18}, {-24, 19}, {-31, 21}, {-32, 21}, {-40, 23}, {-45, 23}, {-46, 24}, {-63, 26}, {-64, 26},
      {-66, 26}, {-67, 27}, {-90, 29}, {-99, 30}, {-112, 30}, {-113, 31}, {-127, 31}, {-128, 31}, {-500, 31},
      // keys after the query (never seen by a causal model) share bucket 0
      {1, 0}, {8, 0}, {500, 0},
  };
  for (const Row& r : table) {
    CAPTURE(r.relative);
    CHECK(ta::RelativePositionBias::bucket(r.relative, ta::Causality::Causal, 32, 128) == r.bucket);
  }
}

TEST_CASE("relative position bias: forward gives weight[bucket(k - q - offset), h] as [heads, q, k]") {
  ta::Generator gen(5);
  for (ta::Causality causality : {ta::Causality::Bidirectional, ta::Causality::Causal}) {
    CAPTURE(causality == ta::Causality::Bidirectional);
    ta::RelativePositionBias rpb(3, causality, gen, 8, 20);
    ta::init::normal_(rpb.weight, 1.0f, gen);
    CHECK(rpb.weight.shape() == Shape{8, 3});
    const int64_t q_len = 4, k_len = 30, offset = 9;
    Tensor bias = rpb.forward(q_len, k_len, offset);
    REQUIRE(bias.shape() == Shape{3, q_len, k_len});
    std::vector<float> w = rpb.weight.to_vector(), b = bias.to_vector();
    for (int64_t h = 0; h < 3; ++h)
      for (int64_t i = 0; i < q_len; ++i)
        for (int64_t j = 0; j < k_len; ++j) {
          int64_t bucket = ta::RelativePositionBias::bucket(j - (i + offset), causality, 8, 20);
          CHECK(b[(h * q_len + i) * k_len + j] == w[bucket * 3 + h]);
        }
  }
  // With 8 buckets and max_distance 20, bidirectional: 4 per direction, exact for
  // distances 0 and 1, then 2 + floor(log(n/2) / log(10) * 2), capped at 3.
  CHECK(ta::RelativePositionBias::bucket(-1, ta::Causality::Bidirectional, 8, 20) == 1);
  CHECK(ta::RelativePositionBias::bucket(-6, ta::Causality::Bidirectional, 8, 20) == 2);  // log(3)/log(10)*2 = 0.95
  CHECK(ta::RelativePositionBias::bucket(-7, ta::Causality::Bidirectional, 8, 20) == 3);  // log(3.5)/log(10)*2 = 1.09
  CHECK(ta::RelativePositionBias::bucket(2, ta::Causality::Bidirectional, 8, 20) == 6);
  CHECK_THROWS_AS(ta::RelativePositionBias(0, ta::Causality::Bidirectional, gen), ta::Error);
  CHECK_THROWS_AS(ta::RelativePositionBias(2, ta::Causality::Bidirectional, gen, 2, 128), ta::Error);
}

// ---- learned positions -------------------------------------------------------------------

TEST_CASE("learned positions: rows offset .. offset + n - 1; past max_len is an error") {
  ta::Generator gen(6);
  ta::LearnedPositions pos(10, 4, gen, 1.0f);
  Tensor rows = pos.forward(3, 5);
  REQUIRE(rows.shape() == Shape{3, 4});
  std::vector<float> w = pos.weight.to_vector(), r = rows.to_vector();
  for (int i = 0; i < 12; ++i) CHECK(r[i] == w[20 + i]);
  CHECK_NOTHROW(pos.forward(10, 0));
  CHECK_THROWS_WITH_AS(pos.forward(3, 8), doctest::Contains("exceed the 10 learned positions"), ta::Error);
  CHECK_THROWS_AS(pos.forward(2, -1), ta::Error);
}

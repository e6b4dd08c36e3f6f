// tests/attention/test_performer.cpp — the method-specific tests of Performer
// (FAVOR+) attention, beyond the conformance suite:
//   - the estimator: phi(x).phi(y) is unbiased for exp(x.y) (the mean over draws
//     closes in at the rate 1/sqrt(draws)); orthogonal blocks are orthonormal;
//   - the paper's variance findings on fixed inputs: the error against exact
//     softmax attention falls as m grows, orthogonal features beat i.i.d. ones,
//     positive features beat sin/cos ones where the kernel is small;
//   - the fused causal kernel equals the reference core, forward and gradients,
//     over several chunks, with padding, more keys than queries, ReLU and
//     hyperbolic features; no overflow for large inputs;
//   - no leak from the future, including through the key stabilizer (a huge later
//     key changes no bit of earlier outputs), and samples independent;
//   - decoding over several chunks equals the full pass;
//   - feature redraw: every K training steps, never in eval, reproducible;
//   - a softmax model switched to FAVOR+ keeps its loss (backward compatibility).
#include <doctest/doctest.h>

#include "tests/attention/core_testing.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "attention/performer.h"
#include "attention/registry.h"
#include "attention/softmax.h"
#include "autograd/engine.h"
#include "autograd/node.h"
#include "autograd/ops.h"
#include "core/error.h"
#include "core/kernels.h"
#include "layers/transformer.h"
#include "optim/adam.h"
#include "tests/testing.h"

using namespace ta;
using namespace ta::testing;

namespace {


double mean_squared_error(const Tensor& a, const Tensor& b) {
  std::vector<float> x = a.to_vector(), y = b.to_vector();
  double s = 0.0;
  for (size_t i = 0; i < x.size(); ++i) s += (static_cast<double>(x[i]) - y[i]) * (static_cast<double>(x[i]) - y[i]);
  return s / static_cast<double>(x.size());
}

bool all_finite(const Tensor& t) {
  for (float v : t.to_vector())
    if (!std::isfinite(v)) return false;
  return true;
}

PerformerCore::Options core_options(FeatureMap map, bool fused, int64_t m = 64, uint64_t seed = 3) {
  PerformerCore::Options o;
  o.features = m;
  o.map = map;
  o.fused = fused;
  o.seed = seed;
  return o;
}


// x with row `pos` of sample b, head h replaced by `scale` times fresh values.
Tensor perturb(const Tensor& x, int64_t b, int64_t h, int64_t pos, float scale, uint64_t seed) {
  std::vector<float> v = x.to_vector();
  Generator g(seed);
  const int64_t heads = x.size(1), n = x.size(2), d = x.size(3);
  for (int64_t c = 0; c < d; ++c) v[((b * heads + h) * n + pos) * d + c] = scale * (g.next_uniform() - 0.5f);
  return Tensor::from_vector(v, x.shape());
}

std::vector<float> rows(const Tensor& y, int64_t b, int64_t from, int64_t to) {
  return narrow(narrow(y, 0, b, 1), 2, from, to - from).to_vector();
}

}  // namespace

// ---- the estimator --------------------------------------------------------------------

TEST_CASE("performer: orthogonal features are orthogonal within a block, rows of Gaussian length") {
  Generator g(1);
  const int64_t d = 16, m = 40;  // two full blocks and a part of a third
  std::vector<float> w = draw_features(m, d, FeatureRows::Orthogonal, g).to_vector();
  auto dot = [&](int64_t a, int64_t b) {
    double s = 0.0;
    for (int64_t c = 0; c < d; ++c) s += static_cast<double>(w[a * d + c]) * w[b * d + c];
    return s;
  };
  double mean_sq_norm = 0.0;
  for (int64_t a = 0; a < m; ++a) {
    mean_sq_norm += dot(a, a) / m;
    for (int64_t b = a + 1; b < m && b / d == a / d; ++b) CHECK(std::fabs(dot(a, b)) < 1e-4 * std::sqrt(dot(a, a) * dot(b, b)));
  }
  CHECK(mean_sq_norm == doctest::Approx(static_cast<double>(d)).epsilon(0.3));  // E|w|^2 = d (chi_d^2)
  std::vector<float> s = draw_features(m, d, FeatureRows::Orthogonal, g, RowNorms::Sqrt).to_vector();
  for (int64_t a = 0; a < m; ++a) {
    double sq = 0.0;
    for (int64_t c = 0; c < d; ++c) sq += static_cast<double>(s[a * d + c]) * s[a * d + c];
    CHECK(sq == doctest::Approx(static_cast<double>(d)).epsilon(1e-4));
  }
}

TEST_CASE("performer: phi(x).phi(y) is unbiased for exp(x.y); the mean over draws closes in as 1/sqrt(draws)") {
  const int64_t d = 4, m = 8;
  Generator data(5);
  Tensor x = Tensor::normal(Shape{1, d}, 0, 0.5f, data), y = Tensor::normal(Shape{1, d}, 0, 0.5f, data);
  std::vector<float> xv = x.to_vector(), yv = y.to_vector();
  double xy = 0.0;
  for (int64_t c = 0; c < d; ++c) xy += static_cast<double>(xv[c]) * yv[c];
  const double exact = std::exp(xy);
  for (FeatureMap map : {FeatureMap::Positive, FeatureMap::Hyperbolic, FeatureMap::Trigonometric})
    for (bool orthogonal : {false, true}) {
      const std::string map_name = feature_map_name(map);
      CAPTURE(map_name);
      CAPTURE(orthogonal);
      Generator g(100);
      double sum = 0.0, sum_sq = 0.0;
      int64_t draws = 0;
      double last_bound = 1e9;
      for (int64_t target : {100, 1000, 10000}) {
        for (; draws < target; ++draws) {
          Tensor w = draw_features(m, d, orthogonal ? FeatureRows::Orthogonal : FeatureRows::Iid, g);
          std::vector<float> fx = favor_features(x, w, map).to_vector(), fy = favor_features(y, w, map).to_vector();
          double e = 0.0;
          for (size_t r = 0; r < fx.size(); ++r) e += static_cast<double>(fx[r]) * fy[r];
          sum += e;
          sum_sq += e * e;
        }
        const double mean = sum / draws, var = sum_sq / draws - mean * mean;
        const double bound = 5.0 * std::sqrt(var / draws);  // five standard errors
        CAPTURE(draws);
        CHECK(std::fabs(mean - exact) < bound);
        CHECK(bound < last_bound);
        last_bound = bound;
      }
      CHECK(last_bound < 0.05 * exact);  // after 10000 draws the estimate is within 5%
    }
}

TEST_CASE("performer: the error against exact softmax attention falls as m grows; orthogonal below i.i.d.") {
  // Fixed inputs (d = 16, entries of q and k N(0, 0.5^2)); mean squared error of the
  // output, averaged over 128 draws of the features. Draw s of the i.i.d. and of
  // the orthogonal features start from the same Gaussian rows (draw_features), so
  // the comparison is between a draw and its orthogonalized twin.
  const int64_t d = 16, n = 64, draws = 128;
  Qkv in = make_qkv(1, 2, n, n, d, 21, 0.5f);
  const AttentionScale scale{1.0f / std::sqrt(static_cast<float>(d))};
  SoftmaxReferenceCore exact(scale);
  const Tensor truth = exact.forward(in.q, in.k, in.v, Causality::Bidirectional, Tensor());
  auto error = [&](int64_t m, bool orthogonal) {
    double mse = 0.0;
    for (int64_t s = 0; s < draws; ++s) {
      PerformerCore::Options o = core_options(FeatureMap::Positive, false, m, 1000 + s);
      o.orthogonal = orthogonal;
      PerformerCore core(o, scale, d);
      mse += mean_squared_error(core.forward(in.q, in.k, in.v, Causality::Bidirectional, Tensor()), truth) / draws;
    }
    return mse;
  };
  NoGradGuard no_grad;
  double previous_iid = 1e9, previous_orthogonal = 1e9, first = 0.0;
  for (int64_t m : {16, 64, 256, 1024}) {
    const double iid = error(m, false), orthogonal = error(m, true);
    CAPTURE(m);
    CAPTURE(iid);
    CAPTURE(orthogonal);
    CHECK(iid < previous_iid / 2);  // about 1/m: 4 times the features, about a quarter of the error
    CHECK(orthogonal < previous_orthogonal / 2);
    CHECK(orthogonal < 0.95 * iid);
    if (m == 16) first = orthogonal;
    previous_iid = iid;
    previous_orthogonal = orthogonal;
  }
  CHECK(previous_orthogonal < first / 10);
}

TEST_CASE("performer: positive features estimate small kernel values far better than sin/cos features") {
  // y close to -x: exp(x.y) is small. The positive estimator's error shrinks with
  // the kernel (its variance carries exp(x.y)^2), the trigonometric one's does not
  // (its variance carries exp(|x|^2 + |y|^2)): Lemma 2 of the paper.
  const int64_t d = 8, m = 64, draws = 400;
  Generator data(9);
  std::vector<float> xv = Tensor::normal(Shape{d}, 0, 0.5f, data).to_vector(), yv(d);
  std::vector<float> noise = Tensor::normal(Shape{d}, 0, 0.05f, data).to_vector();
  for (int64_t c = 0; c < d; ++c) yv[c] = -xv[c] + noise[c];
  const Tensor x = Tensor::from_vector(xv, Shape{1, d}), y = Tensor::from_vector(yv, Shape{1, d});
  double xy = 0.0;
  for (int64_t c = 0; c < d; ++c) xy += static_cast<double>(xv[c]) * yv[c];
  const double exact = std::exp(xy);
  REQUIRE(exact < 0.3);
  auto mse = [&](FeatureMap map) {
    Generator g(77);
    double s = 0.0;
    for (int64_t i = 0; i < draws; ++i) {
      Tensor w = draw_features(m, d, FeatureRows::Orthogonal, g);
      std::vector<float> fx = favor_features(x, w, map).to_vector(), fy = favor_features(y, w, map).to_vector();
      double e = 0.0;
      for (size_t r = 0; r < fx.size(); ++r) e += static_cast<double>(fx[r]) * fy[r];
      s += (e - exact) * (e - exact) / draws;
    }
    return s;
  };
  const double positive = mse(FeatureMap::Positive), trig = mse(FeatureMap::Trigonometric);
  CAPTURE(exact);
  CAPTURE(positive);
  CAPTURE(trig);
  CHECK(positive * 100.0 < trig);
}

// ---- the fused kernel against the reference ---------------------------------------------

TEST_CASE("performer: the fused causal kernel equals the reference core, forward and gradients") {
  struct Case {
    int64_t n_q, n_k, d, m;
    FeatureMap map;
    bool padded;
  };
  const Case cases[] = {{1, 1, 8, 16, FeatureMap::Positive, false},    {7, 7, 8, 16, FeatureMap::Positive, false},
                        {67, 67, 16, 64, FeatureMap::Positive, true},  {130, 130, 16, 32, FeatureMap::Positive, false},
                        {5, 300, 16, 64, FeatureMap::Positive, true},  {129, 200, 32, 64, FeatureMap::Hyperbolic, false},
                        {130, 130, 16, 32, FeatureMap::Relu, true},    {70, 100, 8, 16, FeatureMap::Relu, false},
                        {600, 600, 64, 256, FeatureMap::Positive, false}};
  for (const Case& c : cases) {
    CAPTURE(c.n_q);
    CAPTURE(c.n_k);
    CAPTURE(c.m);
    const std::string map_name = feature_map_name(c.map);
    CAPTURE(map_name);
    CAPTURE(c.padded);
    Qkv in = make_qkv(2, 2, c.n_q, c.n_k, c.d, 7 + c.n_q);
    Tensor mask = c.padded ? sample_one_padded(c.n_k, 0, 4) : Tensor();
    AttentionScale scale{1.0f / std::sqrt(static_cast<float>(c.d))};
    PerformerCore reference(core_options(c.map, false, c.m), scale, c.d);
    PerformerCore fused(core_options(c.map, true, c.m), scale, c.d);
    const Result r = run(reference, in, true, mask);
    check_matches(run(fused, in, true, mask), r, 1e-4f, 1e-4f);
  }
}

// The formula performer.h states for the ReLU kernel, in double:
//   phi(x') = relu(W x') + 1e-3,  x' = x d^-1/4,
//   out_i = sum_j phi(q'_i).phi(k'_j) v_j / sum_j phi(q'_i).phi(k'_j)   (j <= i when causal).
TEST_CASE("performer: the ReLU kernel computes the formula its header states") {
  const int64_t n = 70, d = 8, m = 16;
  Qkv in = make_qkv(1, 2, n, n, d, 41);
  const double root = std::pow(static_cast<double>(d), -0.25);
  for (bool fused : {false, true})
    for (bool causal : {true, false}) {
      CAPTURE(fused);
      CAPTURE(causal);
      PerformerCore core(core_options(FeatureMap::Relu, fused, m), AttentionScale{1.0f / std::sqrt(8.0f)}, d);
      const std::vector<float> got = core.forward(in.q, in.k, in.v, causality_if(causal), Tensor()).to_vector();
      const std::vector<float> w = core.features.to_vector(), q = in.q.to_vector(), k = in.k.to_vector(),
                               v = in.v.to_vector();
      auto phi = [&](const std::vector<float>& x, int64_t row) {
        std::vector<double> f(m);
        for (int64_t r = 0; r < m; ++r) {
          double p = 0.0;
          for (int64_t c = 0; c < d; ++c) p += w[r * d + c] * x[row * d + c] * root;
          f[r] = std::max(p, 0.0) + 1e-3;
        }
        return f;
      };
      double worst = 0.0;
      for (int64_t h = 0; h < 2; ++h)
        for (int64_t i = 0; i < n; ++i) {
          const std::vector<double> fq = phi(q, h * n + i);
          std::vector<double> num(d, 0.0);
          double den = 0.0;
          for (int64_t j = 0; j < (causal ? i + 1 : n); ++j) {
            const std::vector<double> fk = phi(k, h * n + j);
            double a = 0.0;
            for (int64_t r = 0; r < m; ++r) a += fq[r] * fk[r];
            den += a;
            for (int64_t c = 0; c < d; ++c) num[c] += a * v[(h * n + j) * d + c];
          }
          for (int64_t c = 0; c < d; ++c)
            worst = std::max(worst, std::fabs(got[(h * n + i) * d + c] - num[c] / den));
        }
      CHECK(worst < 1e-5);
    }
}

TEST_CASE("performer: no overflow and no NaN for large inputs, in either computation") {
  Qkv in = make_qkv(1, 2, 150, 150, 16, 4, 30.0f);  // |q|, |k| about 120: exponents in the thousands
  AttentionScale scale{0.25f};
  PerformerCore reference(core_options(FeatureMap::Positive, false), scale, 16);
  PerformerCore fused(core_options(FeatureMap::Positive, true), scale, 16);
  Result r = run(reference, in, true, Tensor()), f = run(fused, in, true, Tensor());
  for (const Tensor& t : {r.out, r.dq, r.dk, r.dv, f.out, f.dq, f.dk, f.dv}) CHECK(all_finite(t));
  CHECK(relative_error(f.out, r.out) < 1e-3f);
  Result b = run(reference, in, false, Tensor());
  for (const Tensor& t : {b.out, b.dq, b.dk, b.dv}) CHECK(all_finite(t));
}

TEST_CASE("performer: a query whose keys are all padded gives 0, not NaN") {
  Qkv in = make_qkv(1, 1, 5, 5, 4, 1);
  Tensor all_padded = Tensor::ones(Shape{1, 5});
  for (bool fused : {false, true}) {
    PerformerCore core(core_options(FeatureMap::Positive, fused, 8), AttentionScale{0.5f}, 4);
    Result r = run(core, in, true, all_padded);
    for (float v : r.out.to_vector()) CHECK(v == 0.0f);
    CHECK(all_finite(r.dq));
  }
}

// ---- causality and independence, including through the stabilizer ----------------------

TEST_CASE("performer: a huge later key changes no bit of earlier outputs, nor of other samples") {
  // A key 50 times larger than the rest moves any stabilizer taken over the whole
  // sequence (and would underflow every earlier row); the running maximum only
  // sees it from its own position on.
  const int64_t n = 150;
  Qkv in = make_qkv(2, 2, n, n, 16, 8);
  for (bool fused : {false, true}) {
    CAPTURE(fused);
    PerformerCore core(core_options(FeatureMap::Positive, fused), AttentionScale{0.25f}, 16);
    const Tensor y = core.forward(in.q, in.k, in.v, Causality::Causal, Tensor());
    for (int64_t j : {3, 64, 100, 149}) {
      CAPTURE(j);
      const Tensor k2 = perturb(in.k.detach(), 1, 1, j, 50.0f, j);
      const Tensor y2 = core.forward(in.q, k2, in.v, Causality::Causal, Tensor());
      CHECK(rows(y, 1, 0, j) == rows(y2, 1, 0, j));  // sample 1, every head, positions before j
      CHECK(rows(y, 0, 0, n) == rows(y2, 0, 0, n));  // sample 0 untouched
      CHECK(all_finite(y2));
    }
  }
}

// ---- decoding, redraw ------------------------------------------------------------------------

TEST_CASE("performer: attention weights for pictures sum to 1 over the visible keys and follow softmax") {
  const int64_t n = 20, d = 8;
  Qkv in = make_qkv(1, 2, n, n, d, 30, 0.5f);
  const AttentionScale scale{1.0f / std::sqrt(static_cast<float>(d))};
  PerformerCore core(core_options(FeatureMap::Positive, true, 4096), scale, d);
  SoftmaxReferenceCore exact(scale);
  for (bool causal : {true, false})
    for (int64_t i : {0, 7, 19}) {
      CAPTURE(causal);
      CAPTURE(i);
      std::vector<float> w = core.query_weights(in.q, in.k, i, causality_if(causal)).to_vector();
      std::vector<float> e = exact.query_weights(in.q, in.k, i, causality_if(causal)).to_vector();
      REQUIRE(w.size() == static_cast<size_t>(2 * n));
      for (int64_t h = 0; h < 2; ++h) {
        double total = 0.0;
        for (int64_t j = 0; j < n; ++j) {
          total += w[h * n + j];
          if (causal && j > i) CHECK(w[h * n + j] == 0.0f);
          CHECK(w[h * n + j] == doctest::Approx(e[h * n + j]).epsilon(0.1).scale(0.02));
        }
        CHECK(total == doctest::Approx(1.0).epsilon(1e-5));
      }
    }
}

TEST_CASE("performer: decoding token by token equals the full causal pass over several chunks") {
  const int64_t n = 150;
  Qkv in = make_qkv(2, 2, n, n, 8, 12, 2.0f);  // large enough for the running maximum to move
  for (FeatureMap map : {FeatureMap::Positive, FeatureMap::Hyperbolic, FeatureMap::Relu}) {
    const std::string map_name = feature_map_name(map);
    CAPTURE(map_name);
    PerformerCore core(core_options(map, true, 32), AttentionScale{1.0f / std::sqrt(8.0f)}, 8);
    const Tensor full = core.forward(in.q, in.k, in.v, Causality::Causal, Tensor());
    auto state = core.start_decoding(2);
    std::vector<Tensor> outs;
    for (int64_t t = 0; t < n; ++t) {
      outs.push_back(core.step(narrow(in.q, 2, t, 1), narrow(in.k, 2, t, 1), narrow(in.v, 2, t, 1), *state));
      state->position += 1;
    }
    CHECK(relative_error(concat(outs, 2), full) < 1e-5f);
  }
}

TEST_CASE("performer: features are redrawn every K training steps, never in eval, reproducibly") {
  PerformerCore::Options o = core_options(FeatureMap::Positive, true, 16, 5);
  o.redraw_interval = 3;
  PerformerCore core(o, AttentionScale{0.5f}, 4);
  Qkv in = make_qkv(1, 1, 4, 4, 4, 2);
  const std::vector<float> first = core.features.to_vector();
  CHECK(first == core.draw(0).to_vector());
  for (int step = 0; step < 3; ++step) core.forward(in.q, in.k, in.v, Causality::Causal, Tensor());
  CHECK(core.training_steps() == 3);
  CHECK(core.features.to_vector() == first);  // steps 0, 1, 2 use draw 0
  core.forward(in.q, in.k, in.v, Causality::Causal, Tensor());  // step 3: draw 1
  CHECK(core.features.to_vector() == core.draw(1).to_vector());
  CHECK(core.features.to_vector() != first);
  // Not counted: eval mode, and grad mode off (evaluation in training mode).
  core.eval();
  for (int i = 0; i < 10; ++i) core.forward(in.q, in.k, in.v, Causality::Causal, Tensor());
  core.train();
  {
    NoGradGuard no_grad;
    for (int i = 0; i < 10; ++i) core.forward(in.q, in.k, in.v, Causality::Causal, Tensor());
  }
  CHECK(core.training_steps() == 4);
  // The count and the features are buffers: a checkpoint carries them, so a
  // resumed run redraws at the same steps.
  auto state = core.state_dict();
  CHECK(state.count("features") == 1);
  CHECK(state.count("steps") == 1);
  PerformerCore resumed(o, AttentionScale{0.5f}, 4);
  resumed.load_state_dict(state);
  for (int i = 0; i < 2; ++i) {
    core.forward(in.q, in.k, in.v, Causality::Causal, Tensor());
    resumed.forward(in.q, in.k, in.v, Causality::Causal, Tensor());
  }
  CHECK(resumed.features.to_vector() == core.features.to_vector());
  CHECK(resumed.features.to_vector() == core.draw(1).to_vector());  // steps 4 and 5
  core.forward(in.q, in.k, in.v, Causality::Causal, Tensor());
  resumed.forward(in.q, in.k, in.v, Causality::Causal, Tensor());
  CHECK(resumed.features.to_vector() == core.draw(2).to_vector());  // step 6
  CHECK(core.features.to_vector() == core.draw(2).to_vector());
}

TEST_CASE("performer: clear errors for trigonometric features in a model and mismatched decoding states") {
  PerformerCore::Options o = core_options(FeatureMap::Trigonometric, true);
  CHECK_THROWS_WITH_AS(PerformerCore(o, AttentionScale{0.5f}, 4), doctest::Contains("comparison only"), Error);
  PerformerCore core(core_options(FeatureMap::Positive, true, 8), AttentionScale{0.5f}, 4);
  MixerState other;
  Qkv in = make_qkv(1, 1, 1, 1, 4, 2);
  CHECK_THROWS_WITH_AS(core.step(in.q, in.k, in.v, other), doctest::Contains("another kind of mixer"), Error);
}

// ---- backward compatibility: softmax -> FAVOR+ ---------------------------------------------

namespace {

std::unique_ptr<TransformerLM> byte_model(const std::string& attention) {
  TransformerConfig cfg{.vocab_size = 256, .d_model = 64, .n_layers = 2, .max_len = 64, .seed = 1};
  auto gen = std::make_shared<Generator>(2);
  return std::make_unique<TransformerLM>(cfg, [=](int64_t) {
    AttentionConfig c{.name = attention, .d_model = 64, .heads = 4};
    if (attention != "softmax") c.options["performer-features"] = "256";
    return make_attention(c, *gen);
  });
}

}  // namespace

TEST_CASE("performer: a softmax model switched to FAVOR+ (m = 256) keeps its loss before any fine-tuning") {
  // A byte-level LM trained briefly (60 AdamW steps at 1e-3) on a real paragraph:
  // its attention already matters (zeroing the mixers' outputs costs 0.3 nats) while
  // queries and keys are still small, after a 0.02 init, where FAVOR+ with m = 256
  // approximates softmax well: the swapped model's loss is within 1% of it. Trained
  // on until it memorizes the paragraph (loss near 0.2), the attention becomes sharp
  // (large q.k) and m = 256 no longer follows it (the loss roughly triples): that
  // model needs the paper's fine-tuning after the swap.
  const std::string text = ta::testing::read_test_data("paragraph.txt");
  const int64_t rows = 8, n = 64;
  const ByteBatch batch = byte_batch(text, rows, n);
  const Tensor x = batch.ids, y = batch.targets;

  auto softmax = byte_model("softmax");
  AdamW opt(all_parameters(softmax->named_parameters()));
  for (int step = 0; step < 60; ++step) {
    opt.zero_grad();
    Tensor loss = cross_entropy(softmax->forward(x), y);
    backward(loss);
    opt.step(1e-3f);
  }
  softmax->eval();
  auto performer = byte_model("performer");
  performer->eval();
  NoGradGuard no_grad;
  const float before = cross_entropy(performer->forward(x), y).item();  // untrained
  load_softmax_weights(*performer, softmax->state_dict());
  const float trained = cross_entropy(softmax->forward(x), y).item();
  const float swapped = cross_entropy(performer->forward(x), y).item();
  // Without attention (every mixer's output projection zeroed) the trained model is
  // much worse: the swap keeps what attention learned, not just the rest.
  auto no_attention = byte_model("softmax");
  no_attention->load_state_dict(softmax->state_dict());
  for (auto& [name, p] : no_attention->named_parameters())
    if (name.find("mixer.out") != std::string::npos) kernels::assign(p, Tensor::zeros(p.shape()));
  const float blind = cross_entropy(no_attention->forward(x), y).item();
  INFO("softmax ", trained, ", FAVOR+ after the swap ", swapped, ", untrained ", before, ", attention removed ", blind);
  CHECK(trained < 2.0f);  // from log(256) = 5.5
  CHECK(std::fabs(swapped - trained) < 0.1f * trained);
  CHECK(blind > trained + 0.2f);
  CHECK(before > trained + 2.0f);
  // The Performer's own features were kept; a state with a wrong shape changes nothing.
  auto bad = softmax->state_dict();
  bad.begin()->second = Tensor::zeros(Shape{3});
  CHECK_THROWS_AS(load_softmax_weights(*performer, bad), Error);
  CHECK(cross_entropy(performer->forward(x), y).item() == swapped);
}

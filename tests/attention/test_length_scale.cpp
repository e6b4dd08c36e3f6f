// tests/attention/test_length_scale.cpp — the length-aware scale (attention_core.h):
// one meaning in the full pass, in decoding and in the attention weights drawn for
// pictures.
#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "attention/multi_head.h"
#include "attention/registry.h"
#include "autograd/node.h"
#include "autograd/ops.h"
#include "core/error.h"
#include "tests/attention/core_testing.h"

using namespace ta;
using namespace ta::testing;

namespace {

std::shared_ptr<MultiHeadAttention> length_aware(const std::string& variant, bool causal, int64_t train_length) {
  AttentionConfig c{.name = variant, .d_model = 16, .heads = 2, .causal = causal, .init_std = 0.3f,
                    .train_length = train_length};
  for (const auto& [name, value] : std::map<std::string, std::string>{{"sparse-stride", "4"},
                                                                        {"sparse-block", "4"},
                                                                        {"sparse-summary", "2"},
                                                                        {"sparse-window", "6"},
                                                                        {"performer-features", "64"}})
    for (const OptionSpec& s : find_attention_variant(variant).options)
      if (s.name == name) c.options[name] = value;
  Generator gen(4);
  auto mixer = std::dynamic_pointer_cast<MultiHeadAttention>(make_attention(c, gen));
  REQUIRE(mixer != nullptr);
  return mixer;
}

const std::vector<std::string> kMultiHead = {"softmax", "softmax-reference", "sparse-strided", "sparse-fixed",
                                             "sparse",  "performer",         "performer-relu", "performer-reference"};

}  // namespace

TEST_CASE("length-aware scale: decoding token by token equals the full causal pass") {
  const int64_t n = 21;
  Generator g(5);
  const Tensor x = Tensor::normal(Shape{2, n, 16}, 0, 1, g);
  for (const std::string& variant : kMultiHead) {
    CAPTURE(variant);
    auto mixer = length_aware(variant, true, 8);
    const Tensor full = mixer->forward(x);
    std::vector<Tensor> steps;
    REQUIRE_NOTHROW([&] {
      auto state = mixer->start_decoding(2);
      for (int64_t t = 0; t < n; ++t) steps.push_back(mixer->step(narrow(x, 1, t, 1), *state));
    }());
    CHECK(relative_error(concat(steps, 1), full) < 1e-5f);
  }
}

// The weights of query i explain its output: out_i = sum_j w_ij v_j for the cores
// whose output is a weighted mean of the values.
TEST_CASE("length-aware scale: the attention weights for pictures are the ones the full pass uses") {
  const int64_t n = 13;
  for (bool causal : {true, false})
    for (const std::string& variant : kMultiHead) {
      CAPTURE(variant);
      CAPTURE(causal);
      auto mixer = length_aware(variant, causal, 5);
      Qkv in = make_qkv(1, 2, n, n, 8, 6);
      NoGradGuard no_grad;
      const Tensor out = mixer->core->forward(in.q, in.k, in.v, causality_if(causal), Tensor());
      for (int64_t i : {0, 4, 12}) {
        CAPTURE(i);
        const Tensor w = mixer->core->query_weights(in.q, in.k, i, causality_if(causal));  // [1, heads, n]
        const Tensor mixed = matmul(reshape(w, Shape{1, 2, 1, n}), in.v);
        CHECK(relative_error(mixed, narrow(out, 2, i, 1)) < 1e-4f);
      }
    }
}

TEST_CASE("length-aware scale: a query's factor is log(c)/log(L), c the keys it may attend to") {
  const AttentionScale plain{0.125f}, aware{0.125f, 512};
  CHECK(plain.length_factor(4096) == 1.0f);
  CHECK(aware.length_factor(512) == doctest::Approx(1.0f));
  CHECK(aware.length_factor(4096) == doctest::Approx(std::log(4096.0) / std::log(512.0)));
  CHECK(aware.length_factor(1) == 0.0f);

  // q of ones: the scaled rows are the factors themselves. 5 positions, sample 1 with
  // positions 1 and 4 padded; the last 3 positions are the queries (a continuation).
  const AttentionScale s{1.0f, 4};
  const Tensor q = Tensor::ones(Shape{2, 1, 3, 1});
  const Tensor pad = Tensor::from_vector({0, 0, 0, 0, 0, 0, 1, 0, 0, 1}, Shape{2, 5});
  auto f = [&](int64_t c) { return static_cast<float>(std::log(static_cast<double>(c)) / std::log(4.0)); };
  const std::vector<float> causal = s.scale_queries(q, 5, Causality::Causal, pad).to_vector();
  const std::vector<float> want_causal = {f(3), f(4), f(5), f(2), f(3), f(3)};
  const std::vector<float> all = s.scale_queries(q, 5, Causality::Bidirectional, pad).to_vector();
  const std::vector<float> want_all = {f(5), f(5), f(5), f(3), f(3), f(3)};
  for (size_t i = 0; i < want_causal.size(); ++i) {
    CAPTURE(i);
    CHECK(causal[i] == doctest::Approx(want_causal[i]));
    CHECK(all[i] == doctest::Approx(want_all[i]));
  }
  CHECK(plain.scale_queries(q, 5, Causality::Causal, pad).to_vector() == q.to_vector());
}

TEST_CASE("length-aware scale: FLASH refuses it (its weights are no softmax; its own scaling is flash-scaling)") {
  for (const std::string variant : {"flash", "flash-quad"}) {
    CAPTURE(variant);
    AttentionConfig c;
    c.name = variant;
    c.train_length = 64;
    Generator gen(1);
    CHECK_THROWS_WITH_AS(make_attention(c, gen), doctest::Contains("length-aware"), Error);
  }
}

// tests/layers/test_finite_check.cpp — check_finite (layers/finite_check.h) and the
// model option that runs it on every attention input (TransformerConfig::check_inputs):
// a NaN or infinity is reported with what, where and how many; finite tensors pass,
// even when their sum overflows; a model stops at the first layer whose attention
// input is not finite, naming the layer and the position, and runs as before with the
// check off.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "attention/registry.h"
#include "core/error.h"
#include "layers/finite_check.h"
#include "layers/transformer.h"

using namespace ta;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN(), kInf = std::numeric_limits<float>::infinity();

// The message check_finite throws for x, or "" when it passes.
std::string complaint(const Tensor& x, const std::string& what) {
  try {
    check_finite(x, what);
  } catch (const NonFiniteError& e) {
    return e.what();
  }
  return "";
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::shared_ptr<TransformerLM> small_model(FiniteCheck check) {
  const TransformerConfig c{.vocab_size = 11, .d_model = 8, .n_layers = 3, .max_len = 16, .seed = 3,
                            .check_inputs = check};
  auto gen = std::make_shared<Generator>(5);
  return std::make_shared<TransformerLM>(c, [=](int64_t) {
    return make_attention({.name = "softmax", .d_model = 8, .heads = 2, .causal = true}, *gen);
  });
}

// The model with element `index` of tensor `name` set to `value`.
void poke(TransformerLM& model, const std::string& name, int64_t index, float value) {
  std::map<std::string, Tensor> state = model.state_dict();
  std::vector<float> v = state.at(name).to_vector();
  v.at(index) = value;
  state[name] = Tensor::from_vector(v, state.at(name).shape());
  model.load_state_dict(state);
}

Tensor ids() { return Tensor::from_vector({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1, 2}, Shape{2, 6}); }

}  // namespace

TEST_CASE("check_finite names what, where, the first bad value and how many") {
  std::vector<float> v(2 * 3 * 4, 0.5f);
  CHECK(complaint(Tensor::from_vector(v, Shape{2, 3, 4}), "the input") == "");
  v[(1 * 3 + 2) * 4 + 3] = kNaN;  // [1, 2, 3]
  v[23] = kInf;                    // the same element: one bad value
  v[(0 * 3 + 1) * 4 + 2] = -kInf;  // [0, 1, 2], the first
  const std::string message = complaint(Tensor::from_vector(v, Shape{2, 3, 4}), "the input");
  CAPTURE(message);
  CHECK(has(message, "the input: "));
  CHECK(has(message, "2 of the 24 values of [2, 3, 4] are NaN or infinite"));
  CHECK(has(message, "the first is -inf at [0, 1, 2]"));
  CHECK(has(complaint(Tensor::from_vector({kNaN}, Shape{1}), "x"), "the first is nan at [0]"));
}

TEST_CASE("check_finite passes finite values whose sum overflows, and empty tensors") {
  CHECK(complaint(Tensor::full(Shape{8}, 3e38f), "large") == "");
  CHECK(complaint(Tensor::from_vector({3e38f, -3e38f, 3e38f, 3e38f}, Shape{4}), "large") == "");
  CHECK(complaint(Tensor::zeros(Shape{0, 4}), "empty") == "");
}

TEST_CASE("check_inputs stops a model at the first layer whose attention input is not finite") {
  SUBCASE("a NaN weight in the token embedding: layer 0, at the token's positions") {
    const auto owner = small_model(FiniteCheck::On);
    TransformerLM& model = *owner;
    poke(model, "tokens.weight", 3 * 8 + 5, kNaN);  // token 3 appears at [0, 2]
    std::string message;
    try {
      model.forward(ids());
    } catch (const NonFiniteError& e) {
      message = e.what();
    }
    CAPTURE(message);
    CHECK(has(message, "layer 0: the input of its attention (softmax)"));
    CHECK(has(message, "at [0, 2, "));
    CHECK(has(message, "8 of the 96 values of [2, 6, 8]"));  // layer norm spreads it over the row
  }
  SUBCASE("an infinite weight in layer 1's feed-forward: layer 2") {
    const auto owner = small_model(FiniteCheck::On);
    TransformerLM& model = *owner;
    poke(model, "blocks.1.ffn.down.bias", 4, kInf);
    CHECK_THROWS_WITH_AS(model.forward(ids()), doctest::Contains("layer 2: the input of its attention"),
                         NonFiniteError);
  }
  SUBCASE("decoding checks each step too") {
    const auto owner = small_model(FiniteCheck::On);
    TransformerLM& model = *owner;
    poke(model, "tokens.weight", 7 * 8, kInf);
    auto states = model.start_decoding(1);
    CHECK_NOTHROW(model.step(Tensor::from_vector({1}, Shape{1}), states));
    CHECK_THROWS_WITH_AS(model.step(Tensor::from_vector({7}, Shape{1}), states),
                         doctest::Contains("layer 0: the input of its attention"), NonFiniteError);
  }
  SUBCASE("off, the same model runs and its logits hold the NaN") {
    const auto owner = small_model(FiniteCheck::Off);
    TransformerLM& model = *owner;
    poke(model, "tokens.weight", 3 * 8 + 5, kNaN);
    Tensor logits;
    REQUIRE_NOTHROW(logits = model.forward(ids()));
    CHECK(std::isnan(logits.to_vector()[2 * 11]));
  }
  SUBCASE("finite inputs pass, and the model computes what it does unchecked") {
    const auto on = small_model(FiniteCheck::On), off = small_model(FiniteCheck::Off);
    CHECK(on->forward(ids()).to_vector() == off->forward(ids()).to_vector());
  }
}

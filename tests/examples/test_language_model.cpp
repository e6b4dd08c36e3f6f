// tests/examples/test_language_model.cpp — the examples' model builder
// (examples/common/language_model.h) hands LanguageModelOptions::check_inputs to the
// model: on, a NaN in the token embedding stops the forward pass at layer 0 with a
// NonFiniteError; off (the default), the same model runs and the NaN reaches the logits.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "examples/common/language_model.h"
#include "layers/finite_check.h"

using namespace ta;

TEST_CASE("examples: build_language_model passes check_inputs to the model") {
  for (const FiniteCheck check : {FiniteCheck::On, FiniteCheck::Off}) {
    CAPTURE(static_cast<int>(check));
    examples::LanguageModelOptions o;
    o.vocab = 12;
    o.max_len = 8;
    o.d_model = 8;
    o.check_inputs = check;
    const auto model = examples::build_language_model(o);
    std::map<std::string, Tensor> state = model->state_dict();
    state["tokens.weight"] = Tensor::full(state.at("tokens.weight").shape(), std::numeric_limits<float>::quiet_NaN());
    model->load_state_dict(state);
    const Tensor ids = Tensor::from_vector({1, 2, 3, 4}, Shape{1, 4});
    if (check == FiniteCheck::On) {
      CHECK_THROWS_WITH_AS(model->forward(ids), doctest::Contains("layer 0: the input of its attention (softmax)"),
                           NonFiniteError);
    } else {
      const std::vector<float> logits = model->forward(ids).to_vector();
      CHECK(std::isnan(logits.front()));
    }
  }
}

// tests/layers/test_linear.cpp — Linear (values element by element, gradients of the
// input and the parameters, errors, the activation fused into the product), Embedding,
// the feed-forward blocks (plain, GEGLU, SwiGLU) and the activations by name.
//
// Not here: norms (test_norm.cpp), dropout (test_dropout.cpp), positions, attention
// and blocks (test_block_gradients.cpp), Module basics and init (test_module.cpp).
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <vector>

#include "autograd/engine.h"
#include "autograd/ops.h"
#include "core/error.h"
#include "core/kernels.h"
#include "layers/activation.h"
#include "layers/embedding.h"
#include "layers/feed_forward.h"
#include "layers/init.h"
#include "layers/linear.h"
#include "tests/layers/layer_testing.h"

using ta::Shape;
using ta::Tensor;
using namespace ta::testing;

// ---- Linear --------------------------------------------------------------------------

TEST_CASE("linear: y = x W^T + b for 1-D, 2-D and 3-D inputs, checked element by element") {
  ta::Generator gen(1);
  ta::Linear lin(3, 2, gen, ta::Bias::Yes, /*init_std=*/0.5f);
  ta::kernels::assign(lin.bias, Tensor::from_vector({0.25f, -1.0f}, {2}));
  const std::vector<float> W = lin.weight.to_vector(), b = lin.bias.to_vector();
  for (const Shape& shape : {Shape{3}, Shape{4, 3}, Shape{2, 3, 3}}) {
    Tensor x = randn(shape, 2);
    Tensor y = lin.forward(x);
    Shape expected_shape = shape;
    expected_shape[shape.ndim() - 1] = 2;
    REQUIRE(y.shape() == expected_shape);
    std::vector<float> xv = x.to_vector(), yv = y.to_vector();
    for (int64_t row = 0; row < x.numel() / 3; ++row)
      for (int o = 0; o < 2; ++o) {
        double ref = b[o];
        for (int i = 0; i < 3; ++i) ref += static_cast<double>(xv[row * 3 + i]) * W[o * 3 + i];
        CHECK(yv[row * 2 + o] == doctest::Approx(ref).epsilon(1e-5));
      }
  }
  ta::Linear no_bias(3, 2, gen, ta::Bias::No);
  CHECK_FALSE(no_bias.bias.defined());
  CHECK(no_bias.named_parameters().size() == 1);
  CHECK(no_bias.named_parameters()[0].first == "weight");
  CHECK(no_bias.weight.shape() == Shape{2, 3});  // [out, in], PyTorch's layout
}

TEST_CASE("linear: gradcheck of the input and of the parameters, with and without bias, 1-D to 3-D") {
  for (bool bias : {true, false}) {
    CAPTURE(bias);
    ta::Generator gen(4);
    ta::Linear lin(4, 5, gen, ta::bias_if(bias), 0.5f);
    if (bias) ta::init::normal_(lin.bias, 0.5f, gen);
    for (const Shape& shape : {Shape{4}, Shape{3, 4}, Shape{2, 3, 4}}) {
      CAPTURE(shape);
      Tensor x = randn(shape, 5).set_requires_grad();
      check_input_grads([&](const Inputs& in) { return lin.forward(in[0]); }, {x});
      check_param_grads(lin, [&] { return lin.forward(x.detach()); });
    }
  }
}

TEST_CASE("linear: a wrong input width is an error naming both sizes") {
  ta::Generator gen(1);
  ta::Linear lin(4, 5, gen);
  CHECK_THROWS_WITH_AS(lin.forward(Tensor::zeros({2, 3})), doctest::Contains("expected input [..., 4], got [2, 3]"),
                       ta::Error);
  CHECK_THROWS_AS(ta::Linear(0, 5, gen), ta::Error);
  CHECK_THROWS_WITH_AS(lin.forward(Tensor::zeros({2, 3}), ta::Activation::Silu),
                       doctest::Contains("expected input [..., 4], got [2, 3]"), ta::Error);
}

TEST_CASE("linear: forward with an activation equals the activation after forward, values and all gradients") {
  // ReLU, GELU (both forms) and SiLU run fused into the product; ReluSquared, which has
  // no fused form, after it. Either way the layer must be the composition.
  for (ta::Activation act : {ta::Activation::Relu, ta::Activation::ReluSquared, ta::Activation::Gelu,
                             ta::Activation::GeluTanh, ta::Activation::Silu}) {
    CAPTURE(static_cast<int>(act));
    CHECK(ta::fused_activation(act).has_value() == (act != ta::Activation::ReluSquared));
    ta::Generator gen(6);
    ta::Linear lin(40, 70, gen, ta::Bias::Yes, 0.3f);
    ta::init::normal_(lin.bias, 0.5f, gen);
    const Tensor x = randn({3, 13, 40}, 7), dy = randn({3, 13, 70}, 8);
    auto run = [&](const std::function<Tensor(const Tensor&)>& layer) {
      lin.zero_grad();
      Tensor xg = x.detach().set_requires_grad();
      Tensor y = layer(xg);
      ta::backward(y, dy);
      return std::vector<Tensor>{y, xg.grad(), lin.weight.grad(), lin.bias.grad()};
    };
    const std::vector<Tensor> fused = run([&](const Tensor& in) { return lin.forward(in, act); });
    const std::vector<Tensor> composed = run([&](const Tensor& in) { return ta::activate(act, lin.forward(in)); });
    const char* names[] = {"y", "dx", "dW", "db"};
    for (int i = 0; i < 4; ++i) {
      CAPTURE(names[i]);
      CHECK(max_abs_diff(fused[i], composed[i]) <= 1e-5f);
    }
  }
}

// ---- Embedding -----------------------------------------------------------------------

TEST_CASE("embedding: rows looked up by id for ids of any shape; repeated ids add their gradients") {
  ta::Generator gen(6);
  ta::Embedding emb(5, 3, gen, 0.5f);
  Tensor ids = Tensor::from_vector({4, 0, 4, 2, 1, 4}, {2, 3});
  Tensor y = emb.forward(ids);
  REQUIRE(y.shape() == Shape{2, 3, 3});
  std::vector<float> W = emb.weight.to_vector(), yv = y.to_vector(), idv = ids.to_vector();
  for (int t = 0; t < 6; ++t)
    for (int d = 0; d < 3; ++d) CHECK(yv[t * 3 + d] == W[static_cast<int>(idv[t]) * 3 + d]);

  // d sum(y) / d W[v, :] = number of times v occurs: 4 three times, 3 never.
  ta::backward(ta::sum(y));
  std::vector<float> g = emb.weight.grad().to_vector();
  const float counts[5] = {1, 1, 1, 0, 3};
  for (int v = 0; v < 5; ++v)
    for (int d = 0; d < 3; ++d) CHECK(g[v * 3 + d] == counts[v]);
  emb.zero_grad();

  check_param_grads(emb, [&] { return emb.forward(ids); }, {.samples = 15});
  CHECK_THROWS_AS(emb.forward(Tensor::from_vector({5}, {1})), ta::Error);
  CHECK_THROWS_AS(emb.forward(Tensor::from_vector({1.5f}, {1})), ta::Error);
}

// ---- feed-forward ----------------------------------------------------------------------

TEST_CASE("feed_forward: plain GELU, gated GEGLU and SwiGLU, gradcheck of input and parameters") {
  Tensor x = randn({2, 3, 6}, 16).set_requires_grad();
  struct Case {
    const char* label;
    ta::Activation act;
    bool gated;
  };
  for (Case c : {Case{"gelu", ta::Activation::Gelu, false}, Case{"geglu", ta::Activation::Gelu, true},
                 Case{"swiglu", ta::Activation::Silu, true}, Case{"gelu_tanh", ta::Activation::GeluTanh, false}}) {
    CAPTURE(c.label);
    ta::Generator gen(17);
    ta::FeedForward ffn(6, 10, gen, {.activation = c.act, .gated = c.gated, .init_std = 0.5f, .output_init_std = 0.5f});
    CHECK((ffn.gate != nullptr) == c.gated);
    CHECK(ffn.parameter_count() == (c.gated ? 3 : 2) * 6 * 10 + (c.gated ? 2 : 1) * 10 + 6);
    check_input_grads([&](const Inputs& in) { return ffn.forward(in[0]); }, {x});
    check_param_grads(ffn, [&] { return ffn.forward(x.detach()); });
  }
  // The gated form is W2 (act(W1 x) * (V x)), here checked with the three Linears by hand.
  ta::Generator gen(18);
  ta::FeedForward swiglu(6, 10, gen, {.activation = ta::Activation::Silu, .gated = true, .bias = false});
  Tensor xd = x.detach();
  Tensor ref = swiglu.down->forward(ta::silu(swiglu.up->forward(xd)) * swiglu.gate->forward(xd));
  CHECK(max_abs_diff(swiglu.forward(xd), ref) < 1e-6f);
}

TEST_CASE("activations: names parse; an unknown name lists the known ones") {
  CHECK(ta::parse_activation("relu") == ta::Activation::Relu);
  CHECK(ta::parse_activation("relu2") == ta::Activation::ReluSquared);
  CHECK(ta::parse_activation("gelu") == ta::Activation::Gelu);
  CHECK(ta::parse_activation("gelu_tanh") == ta::Activation::GeluTanh);
  CHECK(ta::parse_activation("silu") == ta::Activation::Silu);
  CHECK_THROWS_WITH_AS(ta::parse_activation("swish"),
                       doctest::Contains("unknown name 'swish' (expected relu, relu2, gelu, gelu_tanh or silu)"),
                       ta::Error);
  Tensor x = Tensor::from_vector({-2.0f, -0.5f, 0.5f, 2.0f}, {4});
  std::vector<float> relu2 = ta::activate(ta::Activation::ReluSquared, x).to_vector();
  CHECK(relu2 == std::vector<float>{0.0f, 0.0f, 0.25f, 4.0f});
  std::vector<float> silu = ta::activate(ta::Activation::Silu, x).to_vector();
  CHECK(silu[3] == doctest::Approx(2.0 / (1.0 + std::exp(-2.0))).epsilon(1e-5));
  std::vector<float> gelu = ta::activate(ta::Activation::Gelu, x).to_vector();
  CHECK(gelu[2] == doctest::Approx(0.5 * 0.5 * (1.0 + std::erf(0.5 / std::sqrt(2.0)))).epsilon(1e-5));
}

// tests/layers/test_layers.cpp — every layer of layers/ (and multi-head attention
// from attention/) against central finite differences, the norms and dropout
// against values worked out by hand, the initializations, and the Module basics:
// dotted names, parameter counts, train/eval, zero_grad, the state dict.
//
// Two gradient checks are used. ta::gradcheck (autograd/gradcheck.h) covers the
// layer's input x. Parameters are leaves owned by the module, so they are checked
// by check_param_grads below: backward() once, then, for a few random elements of
// every parameter, move the element by +-eps in place (kernels::assign) and take
// the central difference of the same projected loss sum(y * w). Both use double
// sums, seeded projections and weights of unit scale (init_std 0.3 to 0.5, not
// the training default 0.02, whose tiny gradients would pass any tolerance).
//
// Not here: positions by value (test_position.cpp), training, checkpointing,
// decoding and padding masks of whole models (test_transformer.cpp), and files
// (test_safetensors.cpp).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "attention/multi_head.h"
#include "attention/registry.h"
#include "autograd/engine.h"
#include "autograd/gradcheck.h"
#include "autograd/node.h"
#include "autograd/ops.h"
#include "core/error.h"
#include "core/kernels.h"
#include "layers/activation.h"
#include "layers/dropout.h"
#include "layers/embedding.h"
#include "layers/feed_forward.h"
#include "layers/init.h"
#include "layers/linear.h"
#include "layers/norm.h"
#include "layers/position.h"
#include "layers/transformer.h"

namespace {

using ta::Shape;
using ta::Tensor;
using Inputs = std::vector<Tensor>;

Tensor randn(const Shape& shape, uint64_t seed, float std = 1.0f) {
  ta::Generator gen(seed);
  return Tensor::normal(shape, 0.0f, std, gen);
}

float max_abs_diff(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  std::vector<float> u = a.to_vector(), v = b.to_vector();
  float m = 0.0f;
  for (size_t i = 0; i < u.size(); ++i) m = std::max(m, std::fabs(u[i] - v[i]));
  return m;
}

// gradcheck of f with respect to its inputs that require grad.
void check_input_grads(const std::function<Tensor(const Inputs&)>& f, const Inputs& inputs,
                       ta::GradcheckOptions options = {}) {
  ta::GradcheckResult r = ta::gradcheck(f, inputs, options);
  CHECK_MESSAGE(r.ok, r.message);
}

struct ParamCheckOptions {
  int samples = 4;  // elements checked per parameter (all of them when it has fewer)
  float eps = 1e-2f;
  float atol = 2e-3f;
  float rtol = 2e-2f;
  uint64_t seed = 1;  // the projection w and the choice of elements; printed on failure
};

// Central differences on a few random elements of every parameter of `module`,
// against the gradients backward() leaves there. f must be deterministic (reset any
// generator it draws from). The module's gradients are cleared before and after.
void check_param_grads(ta::Module& module, const std::function<Tensor()>& f, ParamCheckOptions opt = {}) {
  module.zero_grad();
  Tensor y = f();
  ta::Generator gen(opt.seed);
  const std::vector<float> w = Tensor::normal(y.shape(), 0.0f, 1.0f, gen).to_vector();
  ta::backward(ta::sum(y * Tensor::from_vector(w, y.shape())));
  auto projected = [&] {
    std::vector<float> v = f().to_vector();
    double s = 0.0;
    for (size_t i = 0; i < v.size(); ++i) s += static_cast<double>(v[i]) * w[i];
    return s;
  };

  ta::NoGradGuard no_grad;
  const auto params = module.named_parameters();
  REQUIRE(!params.empty());
  for (const auto& [key, p] : params) {
    const std::string name = key;  // clang 14: doctest's messages cannot name a binding
    CHECK_MESSAGE(p.grad().defined(), name, " received no gradient");
    if (!p.grad().defined()) continue;
    const std::vector<float> analytic = p.grad().to_vector();
    const std::vector<float> original = p.to_vector();
    std::vector<int64_t> picks;
    if (p.numel() <= opt.samples) {
      for (int64_t i = 0; i < p.numel(); ++i) picks.push_back(i);
    } else {
      for (int k = 0; k < opt.samples; ++k)
        picks.push_back(std::min<int64_t>(p.numel() - 1, static_cast<int64_t>(gen.next_uniform() * p.numel())));
    }
    for (int64_t i : picks) {
      std::vector<float> v = original;
      v[i] = original[i] + opt.eps;
      ta::kernels::assign(p, Tensor::from_vector(v, p.shape()));
      const double up = projected();
      v[i] = original[i] - opt.eps;
      ta::kernels::assign(p, Tensor::from_vector(v, p.shape()));
      const double down = projected();
      ta::kernels::assign(p, Tensor::from_vector(original, p.shape()));
      const double numeric = (up - down) / (2.0 * opt.eps);
      const double diff = std::fabs(analytic[i] - numeric);
      CHECK_MESSAGE(diff <= opt.atol + opt.rtol * std::fabs(numeric), name, " element ", i, ": analytic ",
                    analytic[i], " vs numeric ", numeric, " (seed ", opt.seed, ")");
    }
  }
  module.zero_grad();
}

// A factory of softmax attention mixers drawing their weights from their own generator.
ta::MixerFactory softmax_mixers(int64_t d_model, int64_t heads, bool causal, uint64_t seed, float init_std,
                                int64_t rotary_dims = 0) {
  auto gen = std::make_shared<ta::Generator>(seed);
  return [=](int64_t) {
    return ta::make_attention({.name = "softmax",
                               .d_model = d_model,
                               .heads = heads,
                               .causal = causal,
                               .rotary_dims = rotary_dims,
                               .init_std = init_std},
                              *gen);
  };
}

ta::TransformerConfig tiny_config() {
  ta::TransformerConfig c;
  c.vocab_size = 11;
  c.d_model = 8;
  c.n_layers = 2;
  c.d_ff = 16;
  c.max_len = 16;
  c.seed = 3;
  return c;
}

std::map<std::string, std::vector<float>> snapshot(const ta::Module& m) {
  std::map<std::string, std::vector<float>> out;
  for (const auto& [name, t] : m.state_dict()) out[name] = t.to_vector();
  return out;
}

// Calls f on m and every module below it.
void for_each_module(const ta::Module& m, const std::function<void(const ta::Module&)>& f) {
  f(m);
  for (const auto& [name, child] : m.children()) for_each_module(*child, f);
}

double mean_of(const std::vector<float>& v) {
  double s = 0.0;
  for (float x : v) s += x;
  return s / static_cast<double>(v.size());
}

double std_of(const std::vector<float>& v) {
  const double m = mean_of(v);
  double s = 0.0;
  for (float x : v) s += (x - m) * (x - m);
  return std::sqrt(s / static_cast<double>(v.size()));
}

}  // namespace

// ---- Linear --------------------------------------------------------------------------

TEST_CASE("linear: y = x W^T + b for 1-D, 2-D and 3-D inputs, checked element by element") {
  ta::Generator gen(1);
  ta::Linear lin(3, 2, gen, /*bias=*/true, /*init_std=*/0.5f);
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
  ta::Linear no_bias(3, 2, gen, /*bias=*/false);
  CHECK_FALSE(no_bias.bias.defined());
  CHECK(no_bias.named_parameters().size() == 1);
  CHECK(no_bias.named_parameters()[0].first == "weight");
  CHECK(no_bias.weight.shape() == Shape{2, 3});  // [out, in], PyTorch's layout
}

TEST_CASE("linear: gradcheck of the input and of the parameters, with and without bias, 1-D to 3-D") {
  for (bool bias : {true, false}) {
    CAPTURE(bias);
    ta::Generator gen(4);
    ta::Linear lin(4, 5, gen, bias, 0.5f);
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
    ta::Linear lin(40, 70, gen, /*bias=*/true, 0.3f);
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

// ---- norms ---------------------------------------------------------------------------

TEST_CASE("norms: LayerNorm, RMSNorm and ScaleNorm of [1, 2, 3, 4] by hand") {
  Tensor x = Tensor::from_vector({1, 2, 3, 4}, {1, 4});
  // mean 2.5, variance (2.25 + 0.25 + 0.25 + 2.25) / 4 = 1.25.
  ta::LayerNorm ln(4);
  std::vector<float> y = ln.forward(x).to_vector();
  const double inv_std = 1.0 / std::sqrt(1.25 + 1e-5);
  const double centered[4] = {-1.5, -0.5, 0.5, 1.5};
  for (int i = 0; i < 4; ++i) CHECK(y[i] == doctest::Approx(centered[i] * inv_std).epsilon(1e-5));
  CHECK(y[0] == doctest::Approx(-1.3416354).epsilon(1e-5));  // -1.5 / sqrt(1.25001)

  // mean square (1 + 4 + 9 + 16) / 4 = 7.5.
  ta::RMSNorm rms(4);
  y = rms.forward(x).to_vector();
  for (int i = 0; i < 4; ++i) CHECK(y[i] == doctest::Approx((i + 1) / std::sqrt(7.5 + 1e-6)).epsilon(1e-5));
  CHECK(y[3] == doctest::Approx(1.4605935).epsilon(1e-5));  // 4 / sqrt(7.5)

  // g starts at sqrt(4) = 2 and ||x|| = sqrt(30): y = 2 x / sqrt(30), which equals
  // the RMSNorm output (unit RMS).
  ta::ScaleNorm sn(4);
  CHECK(sn.g.item() == doctest::Approx(2.0));
  y = sn.forward(x).to_vector();
  for (int i = 0; i < 4; ++i) CHECK(y[i] == doctest::Approx(2.0 * (i + 1) / std::sqrt(30.0)).epsilon(1e-5));
  // Below eps the norm is clipped: y = g x / eps.
  y = sn.forward(Tensor::from_vector({1e-6f, 0, 0, 0}, {1, 4})).to_vector();
  CHECK(y[0] == doctest::Approx(2.0 * 1e-6 / 1e-5).epsilon(1e-4));
  CHECK(y[1] == 0.0f);
}

TEST_CASE("norms: LayerNorm and RMSNorm with gains and offsets against a double reference") {
  const int64_t d = 5;
  Tensor x = randn({2, 3, d}, 7, 2.0f);
  ta::Generator gen(8);
  ta::LayerNorm ln(d);
  ta::RMSNorm rms(d);
  ta::init::normal_(ln.gamma, 1.0f, gen);
  ta::init::normal_(ln.beta, 1.0f, gen);
  ta::init::normal_(rms.gamma, 1.0f, gen);
  std::vector<float> xv = x.to_vector(), g1 = ln.gamma.to_vector(), b1 = ln.beta.to_vector(),
                     g2 = rms.gamma.to_vector();
  std::vector<float> y1 = ln.forward(x).to_vector(), y2 = rms.forward(x).to_vector();
  for (int64_t r = 0; r < 6; ++r) {
    double mean = 0, var = 0, ms = 0;
    for (int64_t i = 0; i < d; ++i) mean += xv[r * d + i] / static_cast<double>(d);
    for (int64_t i = 0; i < d; ++i) {
      var += (xv[r * d + i] - mean) * (xv[r * d + i] - mean) / d;
      ms += static_cast<double>(xv[r * d + i]) * xv[r * d + i] / d;
    }
    for (int64_t i = 0; i < d; ++i) {
      double ln_ref = (xv[r * d + i] - mean) / std::sqrt(var + 1e-5) * g1[i] + b1[i];
      double rms_ref = xv[r * d + i] / std::sqrt(ms + 1e-6) * g2[i];
      CHECK(y1[r * d + i] == doctest::Approx(ln_ref).epsilon(1e-5).scale(1.0));
      CHECK(y2[r * d + i] == doctest::Approx(rms_ref).epsilon(1e-5).scale(1.0));
    }
  }
  ta::LayerNorm plain(d, 1e-5f, /*affine=*/false);
  CHECK(plain.parameter_count() == 0);
  CHECK(max_abs_diff(plain.forward(x), ta::layer_norm(x, Tensor(), Tensor())) == 0.0f);
}

TEST_CASE("norms: gradcheck of the input and of the gains and offsets") {
  Tensor x = randn({2, 3, 6}, 9, 1.5f).set_requires_grad();
  ta::Generator gen(10);
  SUBCASE("LayerNorm") {
    ta::LayerNorm m(6);
    ta::init::normal_(m.gamma, 1.0f, gen);
    ta::init::normal_(m.beta, 1.0f, gen);
    check_input_grads([&](const Inputs& in) { return m.forward(in[0]); }, {x});
    check_param_grads(m, [&] { return m.forward(x.detach()); }, {.samples = 6});
  }
  SUBCASE("RMSNorm") {
    ta::RMSNorm m(6);
    ta::init::normal_(m.gamma, 1.0f, gen);
    check_input_grads([&](const Inputs& in) { return m.forward(in[0]); }, {x});
    check_param_grads(m, [&] { return m.forward(x.detach()); }, {.samples = 6});
  }
  SUBCASE("ScaleNorm") {
    ta::ScaleNorm m(6);
    check_input_grads([&](const Inputs& in) { return m.forward(in[0]); }, {x});
    check_param_grads(m, [&] { return m.forward(x.detach()); });
  }
}

TEST_CASE("norms: an all-zero row has a finite gradient, the one the eps branch gives") {
  // At x = 0 every norm is linear in x: LayerNorm y = (x - mean x) / sqrt(eps), RMSNorm
  // y = x / sqrt(eps), ScaleNorm (norm clipped to eps) y = g x / eps. So the gradient
  // of sum(y * w) is (w - mean w) / sqrt(eps), w / sqrt(eps) and g w / eps.
  const std::vector<float> w = {1, 2, 3, 4};
  auto grad_at_zero = [&](const std::function<Tensor(const Tensor&)>& norm) {
    Tensor x = Tensor::zeros({1, 4}).set_requires_grad();
    ta::backward(ta::sum(norm(x) * Tensor::from_vector(w, {4})));
    return x.grad().to_vector();
  };
  ta::LayerNorm ln(4);
  ta::RMSNorm rms(4);
  ta::ScaleNorm sn(4);
  std::vector<float> g_ln = grad_at_zero([&](const Tensor& x) { return ln.forward(x); });
  std::vector<float> g_rms = grad_at_zero([&](const Tensor& x) { return rms.forward(x); });
  std::vector<float> g_sn = grad_at_zero([&](const Tensor& x) { return sn.forward(x); });
  for (int i = 0; i < 4; ++i) {
    CAPTURE(i);
    CHECK(g_ln[i] == doctest::Approx((w[i] - 2.5) / std::sqrt(1e-5)).epsilon(1e-3));
    CHECK(g_rms[i] == doctest::Approx(w[i] / std::sqrt(1e-6)).epsilon(1e-3));
    CHECK(g_sn[i] == doctest::Approx(2.0 * w[i] / 1e-5).epsilon(1e-3));  // g = sqrt(4) = 2
  }
}

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

// ---- positions -------------------------------------------------------------------------

TEST_CASE("positions: gradcheck of RotaryEmbedding.apply, RelativePositionBias.forward, LearnedPositions") {
  SUBCASE("rotary, all dims and part of them, with an offset") {
    for (int64_t r : {8, 4}) {
      CAPTURE(r);
      ta::RotaryEmbedding rope(8, r);
      Tensor x = randn({2, 2, 5, 8}, 19).set_requires_grad();
      check_input_grads([&](const Inputs& in) { return rope.apply(in[0], 3); }, {x});
    }
  }
  SUBCASE("relative position bias, both directions, with a query offset") {
    for (bool bidirectional : {true, false}) {
      CAPTURE(bidirectional);
      ta::Generator gen(20);
      ta::RelativePositionBias rpb(3, bidirectional, gen, 8, 20);
      ta::init::normal_(rpb.weight, 1.0f, gen);
      check_param_grads(rpb, [&] { return rpb.forward(4, 30, 2); }, {.samples = 24});
    }
  }
  SUBCASE("learned positions") {
    ta::Generator gen(21);
    ta::LearnedPositions pos(10, 4, gen, 0.5f);
    // Only rows 3..8 are used: the others must get a zero gradient.
    check_param_grads(pos, [&] { return pos.forward(6, 3); }, {.samples = 40});
    ta::backward(ta::sum(pos.forward(6, 3)));
    std::vector<float> g = pos.weight.grad().to_vector();
    for (int64_t row = 0; row < 10; ++row) CHECK(g[row * 4] == (row >= 3 && row < 9 ? 1.0f : 0.0f));
  }
}

// ---- attention and blocks ------------------------------------------------------------------

TEST_CASE("multi-head attention: gradcheck of input and parameters, causal or not, with rotary dims") {
  struct Case {
    bool causal;
    int64_t rotary_dims;
    bool padding;
  };
  for (Case c : {Case{true, 0, false}, Case{false, 0, false}, Case{true, 4, false}, Case{false, 2, false},
                 Case{false, 0, true}}) {
    CAPTURE(c.causal);
    CAPTURE(c.rotary_dims);
    CAPTURE(c.padding);
    ta::Generator gen(22);
    auto mha = ta::make_attention(
        {.name = "softmax", .d_model = 8, .heads = 2, .causal = c.causal, .rotary_dims = c.rotary_dims, .init_std = 0.4f},
        gen);
    CHECK(mha->causal() == c.causal);
    Tensor x = randn({2, 4, 8}, 23).set_requires_grad();
    Tensor mask = c.padding ? Tensor::from_vector({0, 0, 1, 1, 0, 0, 0, 1}, {2, 4}) : Tensor();
    check_input_grads([&](const Inputs& in) { return mha->forward(in[0], mask); }, {x});
    check_param_grads(*mha, [&] { return mha->forward(x.detach(), mask); });
  }
}

TEST_CASE("transformer block: gradcheck of input and parameters for each norm, plain and gated, mixer only") {
  struct Case {
    ta::NormKind norm;
    bool gated, feed_forward;
  };
  for (Case c : {Case{ta::NormKind::LayerNorm, false, true}, Case{ta::NormKind::RMSNorm, true, true},
                 Case{ta::NormKind::ScaleNorm, false, true}, Case{ta::NormKind::LayerNorm, false, false}}) {
    CAPTURE(static_cast<int>(c.norm));
    CAPTURE(c.gated);
    CAPTURE(c.feed_forward);
    ta::TransformerConfig cfg = tiny_config();
    cfg.norm = c.norm;
    cfg.gated_ffn = c.gated;
    cfg.feed_forward = c.feed_forward;
    cfg.init_std = 0.4f;
    ta::Generator gen(24);
    ta::TransformerBlock block(cfg, softmax_mixers(8, 2, true, 25, 0.4f)(0), gen);
    CHECK((block.ffn != nullptr) == c.feed_forward);
    Tensor x = randn({2, 4, 8}, 26).set_requires_grad();
    check_input_grads([&](const Inputs& in) { return block.forward(in[0]); }, {x});
    check_param_grads(block, [&] { return block.forward(x.detach()); }, {.samples = 3});
  }
}

TEST_CASE("transformer LM: cross-entropy of the logits, every parameter against finite differences") {
  ta::TransformerConfig cfg = tiny_config();
  cfg.init_std = 0.4f;
  SUBCASE("learned positions, LayerNorm, separate head") {}
  SUBCASE("tied embeddings, sinusoidal positions, RMSNorm, SwiGLU") {
    cfg.tie_embeddings = true;
    cfg.positions = ta::Positions::Sinusoidal;
    cfg.norm = ta::NormKind::RMSNorm;
    cfg.gated_ffn = true;
    cfg.activation = ta::Activation::Silu;
  }
  SUBCASE("gradient checkpointing, rotary positions") {
    cfg.checkpoint = true;
    cfg.positions = ta::Positions::None;
  }
  SUBCASE("bidirectional") { cfg.causal = false; }
  const int64_t rotary = cfg.positions == ta::Positions::None ? 4 : 0;
  ta::TransformerLM model(cfg, softmax_mixers(cfg.d_model, 2, cfg.causal, 27, cfg.init_std, rotary));
  Tensor ids = Tensor::from_vector({1, 5, 2, 9, 0, 3, 3, 10, 7, 4}, {2, 5});
  Tensor targets = Tensor::from_vector({5, 2, 9, 0, 6, 3, 10, 7, 4, 8}, {2, 5});
  check_param_grads(model, [&] { return ta::cross_entropy(model.forward(ids), targets); }, {.samples = 3});
}

// ---- Module basics --------------------------------------------------------------------

TEST_CASE("module: dotted names in registration order, depth first") {
  ta::TransformerConfig cfg = tiny_config();
  ta::TransformerLM model(cfg, softmax_mixers(8, 2, true, 1, 0.02f));
  std::vector<std::string> expected = {"tokens.weight", "positions.weight"};
  for (int b = 0; b < 2; ++b) {
    const std::string p = "blocks." + std::to_string(b) + ".";
    for (const char* n : {"norm1.weight", "norm1.bias", "mixer.qkv.weight", "mixer.qkv.bias", "mixer.out.weight",
                          "mixer.out.bias", "norm2.weight", "norm2.bias", "ffn.up.weight", "ffn.up.bias",
                          "ffn.down.weight", "ffn.down.bias"})
      expected.push_back(p + n);
  }
  for (const char* n : {"final_norm.weight", "final_norm.bias", "head.weight"}) expected.push_back(n);
  std::vector<std::string> names;
  for (const auto& [name, t] : model.named_parameters()) names.push_back(name);
  CHECK(names == expected);
  // The names reach the same tensors as the members.
  auto params = model.named_parameters();
  CHECK(params[4].first == "blocks.0.mixer.qkv.weight");
  CHECK(params[4].second.impl() == std::dynamic_pointer_cast<ta::MultiHeadAttention>(model.blocks[0]->mixer)
                                       ->qkv->weight.impl());
  CHECK(model.state_dict().size() == expected.size());  // no buffers in this model
  CHECK(model.named_buffers().empty());
}

TEST_CASE("module: parameter_count adds up every tensor") {
  ta::TransformerConfig cfg = tiny_config();  // V 11, d 8, d_ff 16, max_len 16, 2 layers
  ta::TransformerLM model(cfg, softmax_mixers(8, 2, true, 1, 0.02f));
  const int64_t per_block = 2 * 8          // norm1
                            + 8 * 24 + 24  // qkv
                            + 8 * 8 + 8    // out
                            + 2 * 8        // norm2
                            + 8 * 16 + 16  // ffn.up
                            + 16 * 8 + 8;  // ffn.down
  CHECK(per_block == 600);
  CHECK(model.parameter_count() == 11 * 8 + 16 * 8 + 2 * per_block + 2 * 8 + 11 * 8);
  cfg.tie_embeddings = true;
  ta::TransformerLM tied(cfg, softmax_mixers(8, 2, true, 1, 0.02f));
  CHECK(tied.head == nullptr);
  CHECK(tied.parameter_count() == model.parameter_count() - 11 * 8);
}

TEST_CASE("module: train() and eval() reach every descendant") {
  ta::TransformerConfig cfg = tiny_config();
  cfg.dropout = 0.5f;
  ta::TransformerLM model(cfg, softmax_mixers(8, 2, true, 1, 0.02f));
  int count = 0;
  for_each_module(model, [&](const ta::Module& m) {
    CHECK(m.training());
    ++count;
  });
  CHECK(count > 20);
  model.eval();
  for_each_module(model, [&](const ta::Module& m) { CHECK_FALSE(m.training()); });
  // In eval mode dropout is off: two forwards agree.
  Tensor ids = Tensor::from_vector({1, 2, 3}, {1, 3});
  CHECK(max_abs_diff(model.forward(ids), model.forward(ids)) == 0.0f);
  model.train();
  for_each_module(model, [&](const ta::Module& m) { CHECK(m.training()); });
  CHECK(max_abs_diff(model.forward(ids), model.forward(ids)) > 0.0f);
}

TEST_CASE("module: zero_grad clears the gradient of every parameter") {
  ta::TransformerLM model(tiny_config(), softmax_mixers(8, 2, true, 1, 0.02f));
  Tensor ids = Tensor::from_vector({1, 2, 3, 4}, {1, 4});
  ta::backward(ta::cross_entropy(model.forward(ids), Tensor::from_vector({2, 3, 4, 5}, {1, 4})));
  for (const auto& [key, p] : model.named_parameters()) {
    const std::string name = key;  // clang 14: doctest's messages cannot name a binding
    CHECK_MESSAGE(p.grad().defined(), name);
  }
  model.zero_grad();
  for (const auto& [key, p] : model.named_parameters()) {
    const std::string name = key;
    CHECK_MESSAGE(!p.grad().defined(), name);
  }
}

TEST_CASE("module: state_dict and load_state_dict round trip, copying the values") {
  ta::TransformerConfig a_cfg = tiny_config(), b_cfg = tiny_config();
  b_cfg.seed = 99;
  ta::TransformerLM a(a_cfg, softmax_mixers(8, 2, true, 1, 0.02f));
  ta::TransformerLM b(b_cfg, softmax_mixers(8, 2, true, 2, 0.02f));
  Tensor ids = Tensor::from_vector({1, 2, 3, 4}, {1, 4});
  REQUIRE(max_abs_diff(a.forward(ids), b.forward(ids)) > 0.0f);
  b.load_state_dict(a.state_dict());
  CHECK(snapshot(a) == snapshot(b));
  CHECK(max_abs_diff(a.forward(ids), b.forward(ids)) == 0.0f);
  // Loading copies: changing a afterwards leaves b alone, and b's parameters stay leaves.
  ta::init::fill_(a.tokens->weight, 1.0f);
  CHECK(b.tokens->weight.to_vector() != a.tokens->weight.to_vector());
  for (const auto& [key, p] : b.named_parameters()) {
    const std::string name = key;  // clang 14: doctest's messages cannot name a binding
    CHECK_MESSAGE(p.requires_grad(), name);
  }
  // state_dict shares the tensors themselves.
  CHECK(a.state_dict().at("tokens.weight").impl() == a.tokens->weight.impl());
}

TEST_CASE("module: load_state_dict is all or nothing; the error lists every problem") {
  ta::TransformerLM source(tiny_config(), softmax_mixers(8, 2, true, 1, 0.02f));
  ta::TransformerConfig cfg = tiny_config();
  cfg.seed = 5;
  ta::TransformerLM target(cfg, softmax_mixers(8, 2, true, 2, 0.02f));
  const auto before = snapshot(target);

  std::map<std::string, Tensor> state;
  for (const auto& [name, t] : source.state_dict()) state[name] = t.clone();
  SUBCASE("one wrong shape") {
    state["blocks.1.ffn.up.weight"] = Tensor::zeros({8, 16});
    CHECK_THROWS_WITH_AS(target.load_state_dict(state),
                         doctest::Contains("shape mismatch: blocks.1.ffn.up.weight is [16, 8] in the model, [8, 16] given"),
                         ta::Error);
  }
  SUBCASE("missing, unexpected and mismatched together") {
    state.erase("head.weight");
    state["blocks.0.extra"] = Tensor::zeros({2});
    state["tokens.weight"] = Tensor::zeros({3});
    try {
      target.load_state_dict(state);
      FAIL("load_state_dict accepted a bad state");
    } catch (const ta::Error& e) {
      const std::string msg = e.what();
      CHECK(msg.find("nothing was loaded") != std::string::npos);
      CHECK(msg.find("missing: head.weight") != std::string::npos);
      CHECK(msg.find("unexpected: blocks.0.extra") != std::string::npos);
      CHECK(msg.find("shape mismatch: tokens.weight") != std::string::npos);
    }
  }
  CHECK(snapshot(target) == before);
}

namespace {
struct TwoSameNames : ta::Module {
  explicit TwoSameNames(int which) {
    register_parameter("w", Tensor::zeros({2}));
    if (which == 0) register_parameter("w", Tensor::zeros({2}));
    if (which == 1) register_buffer("w", Tensor::zeros({2}));
    if (which == 2) register_module("w", std::make_shared<ta::LayerNorm>(2));
    if (which == 3) register_parameter("a.b", Tensor::zeros({2}));
    if (which == 4) register_parameter("", Tensor::zeros({2}));
  }
};
}  // namespace

TEST_CASE("module: a name registered twice, or a name with a dot, is an error") {
  for (int which : {0, 1, 2})
    CHECK_THROWS_WITH_AS(TwoSameNames{which}, doctest::Contains("the name 'w' is already registered"), ta::Error);
  CHECK_THROWS_WITH_AS(TwoSameNames{3}, doctest::Contains("invalid name 'a.b'"), ta::Error);
  CHECK_THROWS_AS(TwoSameNames{4}, ta::Error);
  CHECK_NOTHROW(TwoSameNames{5});
}

// ---- init ------------------------------------------------------------------------------

TEST_CASE("init: xavier bounds and variance, normal std, fills and scaling") {
  ta::Generator gen(30);
  Tensor w = Tensor::zeros({64, 192});  // [fan_out, fan_in]
  for (float gain : {1.0f, 2.0f}) {
    CAPTURE(gain);
    ta::init::xavier_uniform_(w, gen, gain);
    std::vector<float> v = w.to_vector();
    const double a = gain * std::sqrt(6.0 / (64 + 192));
    double max_abs = 0;
    for (float x : v) max_abs = std::max(max_abs, static_cast<double>(std::fabs(x)));
    CHECK(max_abs <= a);
    CHECK(max_abs > 0.99 * a);
    // U(-a, a) has variance a^2 / 3 = gain^2 * 2 / (fan_in + fan_out).
    CHECK(std_of(v) * std_of(v) == doctest::Approx(gain * gain * 2.0 / 256).epsilon(0.05));
    CHECK(std::fabs(mean_of(v)) < 0.01 * a);
  }
  CHECK_THROWS_AS(ta::init::xavier_uniform_(Tensor::zeros({3}), gen), ta::Error);

  ta::init::normal_(w, 0.02f, gen);
  CHECK(std_of(w.to_vector()) == doctest::Approx(0.02).epsilon(0.03));
  CHECK(std::fabs(mean_of(w.to_vector())) < 0.001);

  Tensor t = Tensor::from_vector({1, -2, 3}, {3});
  Tensor alias = t.detach();  // in place: every handle sees the change
  ta::init::scale_(t, 0.5f);
  CHECK(alias.to_vector() == std::vector<float>{0.5f, -1.0f, 1.5f});
  ta::init::fill_(t, 7.0f);
  CHECK(alias.to_vector() == std::vector<float>{7, 7, 7});
  ta::init::zeros_(t);
  CHECK(alias.to_vector() == std::vector<float>{0, 0, 0});
  ta::init::ones_(t);
  CHECK(alias.to_vector() == std::vector<float>{1, 1, 1});
}

TEST_CASE("init: TransformerLM scales each mixer's output and each ffn.down weight by 1/sqrt(2N)") {
  for (int64_t n_layers : {2, 3}) {
    CAPTURE(n_layers);
    ta::TransformerConfig cfg = tiny_config();
    cfg.n_layers = n_layers;
    cfg.d_model = 32;
    cfg.d_ff = 64;
    const uint64_t mixer_seed = 40;
    ta::TransformerLM model(cfg, softmax_mixers(32, 4, true, mixer_seed, cfg.init_std));

    // The same model without the scaling, built draw for draw like the constructor.
    ta::Generator gen(cfg.seed);
    ta::Embedding tokens(cfg.vocab_size, cfg.d_model, gen, cfg.init_std);
    ta::LearnedPositions positions(cfg.max_len, cfg.d_model, gen, cfg.init_std);
    auto mixers = softmax_mixers(32, 4, true, mixer_seed, cfg.init_std);
    const float scale = 1.0f / std::sqrt(2.0f * n_layers);
    for (int64_t i = 0; i < n_layers; ++i) {
      CAPTURE(i);
      ta::TransformerBlock ref(cfg, mixers(i), gen);
      auto& blk = *model.blocks[i];
      auto* mha = dynamic_cast<ta::MultiHeadAttention*>(blk.mixer.get());
      auto* ref_mha = dynamic_cast<ta::MultiHeadAttention*>(ref.mixer.get());
      REQUIRE(mha != nullptr);
      REQUIRE(ref_mha != nullptr);
      // Unscaled weights are equal, so the two were drawn alike...
      CHECK(max_abs_diff(mha->qkv->weight, ref_mha->qkv->weight) == 0.0f);
      CHECK(max_abs_diff(blk.ffn->up->weight, ref.ffn->up->weight) == 0.0f);
      // ...and the residual outputs are the same draws times 1/sqrt(2N).
      for (auto [got, unscaled] : {std::pair{mha->out->weight, ref_mha->out->weight},
                                   std::pair{blk.ffn->down->weight, ref.ffn->down->weight}}) {
        CHECK(max_abs_diff(got, ta::mul(unscaled, scale)) < 1e-8f);
        CHECK(std_of(got.to_vector()) / std_of(unscaled.to_vector()) == doctest::Approx(scale).epsilon(1e-4));
        CHECK(std_of(unscaled.to_vector()) == doctest::Approx(cfg.init_std).epsilon(0.1));
      }
    }
  }
}

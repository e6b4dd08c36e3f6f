// tests/optim/test_optimizers.cpp — SGD, Adam and AdamW against steps computed by
// hand on a small quadratic; which parameters AdamW decays; optimizer state export
// and import; gradient clipping; gradient accumulation over micro-batches.
//
// The quadratic: loss(p) = 0.5 * sum(a * p^2) with a = [1, 4], so grad = a * p.
// From p0 = [1, -2] the first gradient is [1, -8].
//
// Not here: learning-rate schedules (test_schedule.cpp), checkpoints
// (test_resume.cpp, tests/layers/test_safetensors.cpp).
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "autograd/engine.h"
#include "autograd/node.h"
#include "autograd/ops.h"
#include "core/error.h"
#include "layers/module.h"
#include "optim/adam.h"
#include "optim/clip.h"
#include "optim/sgd.h"

namespace {

using ta::Tensor;

Tensor make_param(std::vector<float> values) {
  const int64_t n = static_cast<int64_t>(values.size());
  return Tensor::from_vector(values, {n}).set_requires_grad();
}

std::vector<ta::ParamGroup> group_of(const Tensor& p, float weight_decay = 0.0f) {
  return {ta::ParamGroup{{{"p", p}}, weight_decay}};
}

// zero_grad, backward of the quadratic, step(lr).
void quadratic_step(ta::Optimizer& opt, const Tensor& p, float lr) {
  const Tensor a = Tensor::from_vector({1.0f, 4.0f}, {2});
  opt.zero_grad();
  ta::backward(0.5f * ta::sum(a * p * p));
  opt.step(lr);
}

void check_values(const Tensor& t, const std::vector<double>& expected) {
  std::vector<float> got = t.to_vector();
  REQUIRE(got.size() == expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("element ", i);
    CHECK(got[i] == doctest::Approx(expected[i]).epsilon(1e-6));
  }
}

// Parameters named like a small Transformer's, all ones.
struct Norm : ta::Module {
  Norm() { register_parameter("gain", Tensor::ones({2})); }
};
struct Toy : ta::Module {
  Toy() {
    register_parameter("weight", Tensor::ones({2, 2}));
    register_parameter("bias", Tensor::ones({2}));
    register_parameter("tok_embed", Tensor::ones({3, 2}));
    register_module("norm", std::make_shared<Norm>());
  }
};

bool bits_equal(const Tensor& a, const Tensor& b) { return a.to_vector() == b.to_vector(); }

}  // namespace

TEST_CASE("sgd: two plain steps on the quadratic") {
  Tensor p = make_param({1.0f, -2.0f});
  ta::Sgd opt(group_of(p));
  quadratic_step(opt, p, 0.1f);
  check_values(p, {0.9, -1.2});  // p - 0.1 * [1, -8]
  quadratic_step(opt, p, 0.1f);
  check_values(p, {0.81, -0.72});  // grad [0.9, -4.8]
  CHECK(opt.step_count() == 2);
}

TEST_CASE("sgd: heavy-ball momentum") {
  Tensor p = make_param({1.0f, -2.0f});
  ta::Sgd opt(group_of(p), {.momentum = 0.9f});
  quadratic_step(opt, p, 0.1f);
  check_values(p, {0.9, -1.2});  // b = g = [1, -8]
  quadratic_step(opt, p, 0.1f);
  check_values(p, {0.72, 0.0});  // g = [0.9, -4.8], b = 0.9 [1, -8] + g = [1.8, -12]
}

TEST_CASE("sgd: Nesterov momentum") {
  Tensor p = make_param({1.0f, -2.0f});
  ta::Sgd opt(group_of(p), {.momentum = 0.9f, .nesterov = true});
  quadratic_step(opt, p, 0.1f);
  check_values(p, {0.81, -0.48});  // b = [1, -8]; p -= 0.1 (g + 0.9 b) = 0.1 [1.9, -15.2]
  quadratic_step(opt, p, 0.1f);
  // g = [0.81, -1.92]; b = 0.9 [1, -8] + g = [1.71, -9.12]; g + 0.9 b = [2.349, -10.128]
  check_values(p, {0.5751, 0.5328});
}

TEST_CASE("sgd: weight decay is added to the gradient") {
  Tensor p = make_param({1.0f, -2.0f});
  ta::Sgd opt(group_of(p, 0.1f));
  quadratic_step(opt, p, 0.1f);
  check_values(p, {0.89, -1.18});  // d = g + 0.1 p = [1.1, -8.2]
}

TEST_CASE("adam: the first step is lr against the gradient's sign; the second matches the formula") {
  Tensor p = make_param({1.0f, -2.0f});
  ta::Adam opt(group_of(p));
  quadratic_step(opt, p, 0.1f);
  // m / (1 - beta1) = g and sqrt(v / (1 - beta2)) = |g|, so the step is lr g / (|g| + eps).
  check_values(p, {0.9, -1.9});

  quadratic_step(opt, p, 0.1f);
  // The same update written out in double: t = 2, g1 = a * p1.
  const double b1 = 0.9, b2 = 0.999, eps = 1e-8, a[2] = {1, 4}, p0[2] = {1, -2}, p1[2] = {0.9, -1.9};
  std::vector<double> expected;
  for (int i = 0; i < 2; ++i) {
    double g0 = a[i] * p0[i], g1 = a[i] * p1[i];
    double m = b1 * (1 - b1) * g0 + (1 - b1) * g1;
    double v = b2 * (1 - b2) * g0 * g0 + (1 - b2) * g1 * g1;
    double mhat = m / (1 - b1 * b1), vhat = v / (1 - b2 * b2);
    expected.push_back(p1[i] - 0.1 * mhat / (std::sqrt(vhat) + eps));
  }
  check_values(p, expected);
}

TEST_CASE("adamw decays the weights directly; adam folds decay into the gradient") {
  Tensor p = make_param({1.0f, -2.0f}), q = make_param({1.0f, -2.0f});
  ta::AdamW adamw(group_of(p, 0.1f));
  ta::Adam adam(group_of(q, 0.1f));
  CHECK(adamw.kind() == "AdamW");
  CHECK(adam.kind() == "Adam");
  quadratic_step(adamw, p, 0.1f);
  quadratic_step(adam, q, 0.1f);
  // AdamW: p (1 - lr wd) - lr sign(g) = [0.99 - 0.1, -1.98 + 0.1]
  check_values(p, {0.89, -1.88});
  // Adam: g + wd p = [1.1, -8.2] has g's signs, and the first step only sees signs.
  check_values(q, {0.9, -1.9});
}

TEST_CASE("weight_decay_groups: matrices decay; biases, norm gains and embeddings do not") {
  Toy model;
  std::vector<ta::ParamGroup> groups = ta::weight_decay_groups(model.named_parameters(), 0.5f);
  REQUIRE(groups.size() == 2);
  CHECK(groups[0].weight_decay == 0.5f);
  CHECK(groups[1].weight_decay == 0.0f);
  REQUIRE(groups[0].params.size() == 1);
  CHECK(groups[0].params[0].first == "weight");
  std::vector<std::string> no_decay;
  for (auto& [name, p] : groups[1].params) no_decay.push_back(name);
  CHECK(no_decay == std::vector<std::string>{"bias", "tok_embed", "norm.gain"});

  CHECK(ta::gets_weight_decay("blocks.0.ffn.weight", Tensor::ones({4, 4})));
  CHECK_FALSE(ta::gets_weight_decay("blocks.0.ffn.bias", Tensor::ones({4})));
  CHECK_FALSE(ta::gets_weight_decay("pos_embedding", Tensor::ones({8, 4})));
  CHECK_FALSE(ta::gets_weight_decay("scale", Tensor::scalar(1.0f)));
}

TEST_CASE("adamw: weight decay reaches only the decay group") {
  Toy model;
  ta::AdamW opt(ta::weight_decay_groups(model.named_parameters(), 0.5f));
  // Zero gradients: Adam's update is 0 / (0 + eps) = 0, leaving only the decay.
  for (Tensor p : model.parameters()) p.set_grad(Tensor::zeros(p.shape()));
  opt.step(0.1f);
  for (auto& [key, p] : model.named_parameters()) {
    const std::string name = key;  // clang 14: doctest's messages cannot name a binding
    INFO(name);
    const float expected = name == "weight" ? 1.0f - 0.1f * 0.5f * 1.0f : 1.0f;
    for (float v : p.to_vector()) CHECK(v == expected);
  }
}

TEST_CASE("optimizer: parameters without a gradient are left alone, and zero_grad clears") {
  Tensor used = make_param({1.0f, -2.0f}), unused = make_param({3.0f});
  ta::Adam opt({ta::ParamGroup{{{"used", used}, {"unused", unused}}, 0.1f}});
  quadratic_step(opt, used, 0.1f);
  CHECK(unused.to_vector() == std::vector<float>{3.0f});
  CHECK(used.grad().defined());
  opt.zero_grad();
  CHECK_FALSE(used.grad().defined());
  CHECK(opt.parameters().size() == 2);
  // Per-parameter counts: the unused parameter has had no update yet.
  ta::OptimizerState s = opt.state();
  CHECK(s.counters.at("step") == 1.0);
  CHECK(s.counters.at("used.step") == 1.0);
  CHECK(s.counters.at("unused.step") == 0.0);
}

TEST_CASE("optimizer: bad arguments are errors naming the problem") {
  Tensor p = make_param({1.0f});
  CHECK_THROWS_WITH_AS(ta::Sgd({ta::ParamGroup{{{"a", p}, {"b", p}}, 0.0f}}),
                       doctest::Contains("parameter 'b' appears twice"), ta::Error);
  CHECK_THROWS_WITH_AS(ta::Sgd({ta::ParamGroup{{{"a", p}, {"a", make_param({1.0f})}}, 0.0f}}),
                       doctest::Contains("two parameters are named 'a'"), ta::Error);
  CHECK_THROWS_WITH_AS(ta::Sgd(group_of(Tensor::ones({1}))), doctest::Contains("leaf tensor that requires grad"),
                       ta::Error);
  CHECK_THROWS_WITH_AS(ta::Sgd(group_of(p), {.momentum = 1.0f}), doctest::Contains("momentum must be in [0, 1)"),
                       ta::Error);
  CHECK_THROWS_WITH_AS(ta::Sgd(group_of(p), {.nesterov = true}), doctest::Contains("Nesterov"), ta::Error);
  CHECK_THROWS_WITH_AS(ta::Sgd(group_of(p, -1.0f)), doctest::Contains("weight decay"), ta::Error);
  CHECK_THROWS_WITH_AS(ta::AdamW(group_of(p), {.beta1 = 1.0f}), doctest::Contains("AdamW: betas"), ta::Error);
  CHECK_THROWS_WITH_AS(ta::Adam(group_of(p), {.eps = 0.0f}), doctest::Contains("eps"), ta::Error);
  ta::Sgd opt(group_of(p));
  CHECK_THROWS_WITH_AS(opt.step(std::nanf("")), doctest::Contains("SGD.step: the learning rate"), ta::Error);
}

TEST_CASE("optimizer state: a copy loaded from state() continues identically") {
  auto run = [](auto make_optimizer) {
    Tensor p = make_param({1.0f, -2.0f});
    auto a = make_optimizer(p);
    for (int i = 0; i < 3; ++i) quadratic_step(*a, p, 0.05f);
    Tensor q = p.clone().set_requires_grad();  // the values a model checkpoint would restore
    auto b = make_optimizer(q);
    b->load_state(a->state());
    CHECK(b->step_count() == 3);
    for (int i = 0; i < 2; ++i) {
      quadratic_step(*a, p, 0.05f);
      quadratic_step(*b, q, 0.05f);
    }
    CHECK(bits_equal(p, q));
  };
  SUBCASE("sgd with momentum") {
    run([](const Tensor& p) { return std::make_unique<ta::Sgd>(group_of(p, 0.01f), ta::SgdOptions{.momentum = 0.9f}); });
  }
  SUBCASE("adamw") { run([](const Tensor& p) { return std::make_unique<ta::AdamW>(group_of(p, 0.01f)); }); }
}

TEST_CASE("optimizer state: a mismatched state is refused and nothing changes") {
  Tensor p = make_param({1.0f, -2.0f});
  ta::AdamW opt(group_of(p, 0.01f));
  quadratic_step(opt, p, 0.1f);
  const ta::OptimizerState before = opt.state();
  const std::vector<float> m_before = before.tensors.at("p.exp_avg").to_vector();

  Tensor other = make_param({5.0f, 5.0f});
  ta::Sgd sgd(group_of(other), {.momentum = 0.5f});
  CHECK_THROWS_WITH_AS(opt.load_state(sgd.state()), doctest::Contains("the state is for SGD, this optimizer is AdamW"),
                       ta::Error);

  ta::OptimizerState wrong = before;
  wrong.hyper["beta1"] = 0.8;
  wrong.tensors.erase("p.exp_avg_sq");
  wrong.tensors["p.exp_avg"] = Tensor::zeros({3});
  wrong.counters["step"] = 7;
  try {
    opt.load_state(wrong);
    FAIL("load_state accepted a mismatched state");
  } catch (const ta::Error& e) {
    std::string msg = e.what();
    CHECK(msg.find("nothing was loaded") != std::string::npos);
    CHECK(msg.find("hyperparameter beta1 is 0.8") != std::string::npos);
    CHECK(msg.find("missing tensor: p.exp_avg_sq") != std::string::npos);
    CHECK(msg.find("tensor p.exp_avg should have shape [2], got [3]") != std::string::npos);
  }
  CHECK(opt.step_count() == 1);
  CHECK(opt.state().tensors.at("p.exp_avg").to_vector() == m_before);
}

TEST_CASE("clip_grad_norm: scales every gradient by max_norm / norm above the limit, not below") {
  Tensor a = make_param({3.0f, 4.0f}), b = make_param({12.0f}), none = make_param({1.0f});
  a.set_grad(Tensor::from_vector({3.0f, 4.0f}, {2}));
  b.set_grad(Tensor::from_vector({12.0f}, {1}));
  // global norm = sqrt(9 + 16 + 144) = 13
  Tensor a_grad = a.grad();
  CHECK(ta::clip_grad_norm({a, b, none}, 20.0f) == doctest::Approx(13.0));
  CHECK(a.grad().impl() == a_grad.impl());  // below the limit: untouched
  CHECK(ta::clip_grad_norm({a, b, none}, 6.5f) == doctest::Approx(13.0));
  const double scale = 6.5 / (13.0 + 1e-6);
  check_values(a.grad(), {3.0 * scale, 4.0 * scale});
  check_values(b.grad(), {12.0 * scale});
  CHECK(a_grad.to_vector() == std::vector<float>{3.0f, 4.0f});  // a new tensor; the old one is unchanged
  CHECK_FALSE(none.grad().defined());
  CHECK(ta::clip_grad_norm({a, b}, 100.0f) == doctest::Approx(6.5).epsilon(1e-6));
}

TEST_CASE("clip_grad_norm: a non-finite norm is an error, or returned untouched on request") {
  Tensor a = make_param({1.0f, 1.0f});
  a.set_grad(Tensor::from_vector({1.0f, std::numeric_limits<float>::infinity()}, {2}));
  CHECK_THROWS_WITH_AS(ta::clip_grad_norm({a}, 1.0f), doctest::Contains("global gradient norm is inf"), ta::Error);
  Tensor g = a.grad();
  CHECK(std::isinf(ta::clip_grad_norm({a}, 1.0f, ta::NonFiniteNorm::Return)));
  CHECK(a.grad().impl() == g.impl());
  CHECK_THROWS_WITH_AS(ta::clip_grad_norm({a}, 0.0f), doctest::Contains("max_norm must be finite and > 0"),
                       ta::Error);
}

TEST_CASE("gradient accumulation: k micro-batches of loss / k make the step of the whole batch") {
  ta::Generator gen(7);
  const Tensor x = Tensor::normal({8, 3}, 0.0f, 1.0f, gen), y = Tensor::normal({8, 1}, 0.0f, 1.0f, gen);
  const Tensor w0 = Tensor::normal({3, 1}, 0.0f, 1.0f, gen);
  auto mse = [](const Tensor& xb, const Tensor& yb, const Tensor& w) { return ta::mean(ta::pow(ta::matmul(xb, w) - yb, 2.0f)); };

  Tensor w_big = w0.clone().set_requires_grad(), w_acc = w0.clone().set_requires_grad();
  ta::Sgd big(group_of(w_big), {.momentum = 0.9f}), acc(group_of(w_acc), {.momentum = 0.9f});
  for (int step = 0; step < 3; ++step) {
    big.zero_grad();
    ta::backward(mse(x, y, w_big));
    acc.zero_grad();
    const int k = 4;
    for (int i = 0; i < k; ++i)
      ta::backward(mse(ta::narrow(x, 0, 2 * i, 2), ta::narrow(y, 0, 2 * i, 2), w_acc) / static_cast<float>(k));
    std::vector<float> g_big = w_big.grad().to_vector(), g_acc = w_acc.grad().to_vector();
    for (size_t j = 0; j < g_big.size(); ++j) CHECK(g_acc[j] == doctest::Approx(g_big[j]).epsilon(1e-5));
    big.step(0.1f);
    acc.step(0.1f);
  }
  std::vector<float> a = w_big.to_vector(), b = w_acc.to_vector();
  for (size_t j = 0; j < a.size(); ++j) CHECK(b[j] == doctest::Approx(a[j]).epsilon(1e-5));
}

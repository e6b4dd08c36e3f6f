// tests/autograd/test_zero_gradients.cpp — a zero gradient stays exactly zero.
//
// where(mask, a, b) sends a's gradient only where mask is set, b's only where it is
// not; elsewhere the gradient is 0. The branch not taken often holds inf or NaN: it
// is where a guard like where(x > 0, log(x), 0) keeps an invalid value out. Its
// gradient must still be exactly 0 there, also after the op that made the inf, whose
// own derivative there is inf or NaN too (0 x inf would be NaN). Gradients here are
// exact, so they are compared for equality, not numerically (test_gradcheck.cpp
// does that for every op on valid inputs).
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "autograd/engine.h"
#include "autograd/ops.h"
#include "core/tensor.h"

namespace {

using ta::Shape;
using ta::Tensor;

const float kInf = std::numeric_limits<float>::infinity();
const float kNaN = std::numeric_limits<float>::quiet_NaN();

Tensor leaf(const std::vector<float>& values, const Shape& shape) {
  return Tensor::from_vector(values, shape).set_requires_grad();
}

// Exact equality, element by element (a NaN never equals anything).
void check_exact(const Tensor& got, const std::vector<float>& want) {
  REQUIRE(got.defined());
  const std::vector<float> g = got.to_vector();
  REQUIRE(g.size() == want.size());
  for (size_t i = 0; i < g.size(); ++i) {
    INFO("element ", i, ": got ", g[i], ", want ", want[i]);
    CHECK(g[i] == want[i]);
  }
}

}  // namespace

TEST_CASE("where: inf and NaN in the branch not taken get exactly zero gradient, with broadcasting") {
  const std::vector<float> w = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};  // d loss / d out, out [3, 4]
  const Tensor weights = Tensor::from_vector(w, {3, 4});

  SUBCASE("mask [3,1] picks whole rows: a [3,4] in rows 0 and 2, b [3,1] in row 1") {
    const Tensor mask = Tensor::from_vector({1, 0, 1}, {3, 1});
    Tensor a = leaf({1, 2, 3, 4, kInf, -kInf, kNaN, 5, 6, 7, 8, 9}, {3, 4});  // row 1 not taken
    Tensor b = leaf({kNaN, 2, kInf}, {3, 1});                                 // rows 0 and 2 not taken
    ta::backward(ta::sum(ta::where(mask, a, b) * weights));
    check_exact(a.grad(), {1, 2, 3, 4, 0, 0, 0, 0, 9, 10, 11, 12});
    check_exact(b.grad(), {0, 5 + 6 + 7 + 8, 0});
  }
  SUBCASE("a [1,4] broadcast over rows, its last two entries never taken; b [] taken there") {
    const Tensor mask = Tensor::from_vector({1, 0, 0, 0, 1, 1, 0, 0, 0, 1, 0, 0}, {3, 4});
    Tensor a = leaf({1, 2, kInf, kNaN}, {1, 4});
    Tensor b = leaf({5}, {});
    ta::backward(ta::sum(ta::where(mask, a, b) * weights));
    check_exact(a.grad(), {1 + 5, 6 + 10, 0, 0});
    check_exact(b.grad(), {2 + 3 + 4 + 7 + 8 + 9 + 11 + 12});
  }
  SUBCASE("b [3,4] holds inf and NaN where the mask [3,4] takes a [] ") {
    const Tensor mask = Tensor::from_vector({1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1}, {3, 4});
    Tensor a = leaf({-1}, {});
    Tensor b = leaf({kNaN, -kInf, 1, 2, 3, 4, 5, 6, 7, 8, kInf, kNaN}, {3, 4});
    ta::backward(ta::sum(ta::where(mask, a, b) * weights));
    check_exact(a.grad(), {1 + 2 + 11 + 12});
    check_exact(b.grad(), {0, 0, 3, 4, 5, 6, 7, 8, 9, 10, 0, 0});
  }
}

TEST_CASE("where: the op that made the untaken branch's inf or NaN passes on exactly zero too") {
  // x is invalid (0, or large for exp) where mask is 0. Each f turns those entries
  // into inf or NaN, and f's derivative there is inf or NaN as well.
  const std::vector<float> x_values = {0, 1, 100, 2, 0, 0.5f};
  const std::vector<float> mask_values = {0, 1, 0, 1, 0, 1};
  const std::vector<float> safe_values = {1, 1, 1, 2, 1, 0.5f};  // valid everywhere, same where taken
  const Tensor mask = Tensor::from_vector(mask_values, {2, 3});
  const Tensor inf_where_not_taken = Tensor::from_vector({kInf, 1, kInf, 1, kInf, 1}, {2, 3});
  struct Case {
    const char* name;
    std::function<Tensor(const Tensor&)> f;
  };
  const std::vector<Case> cases = {
      {"log", [](const Tensor& x) { return ta::log(x); }},            // log 0 = -inf, 1/0 = inf
      {"sqrt", [](const Tensor& x) { return ta::sqrt(x); }},          // 0, but 1/(2 sqrt 0) = inf
      {"rsqrt", [](const Tensor& x) { return ta::rsqrt(x); }},        // inf, derivative -inf
      {"exp", [](const Tensor& x) { return ta::exp(x); }},            // e^100 = inf
      {"pow -1", [](const Tensor& x) { return ta::pow(x, -1.0f); }},  // inf, derivative -inf
      {"1 / x", [](const Tensor& x) { return ta::div(Tensor::ones({2, 3}), x); }},  // 0 / 0 in div's backward
      {"x / x", [](const Tensor& x) { return ta::div(x, x); }},                     // NaN, both sides
      {"x * inf", [&](const Tensor& x) { return ta::mul(x, inf_where_not_taken); }},  // 0 x inf, inf x 0
  };
  const Tensor zero = Tensor::zeros({});
  for (const Case& c : cases) {
    for (bool in_a : {true, false}) {  // the guarded value as where's a, or as its b
      const std::string name = c.name;
      CAPTURE(name);
      CAPTURE(in_a);
      auto guarded = [&](const Tensor& x) {
        return in_a ? ta::where(mask, c.f(x), zero) : ta::where(1.0f - mask, zero, c.f(x));
      };
      Tensor x = leaf(x_values, {2, 3});
      ta::backward(ta::sum(guarded(x)));
      Tensor safe = leaf(safe_values, {2, 3});  // the same function on valid inputs: the gradient where taken
      ta::backward(ta::sum(guarded(safe)));
      std::vector<float> want = safe.grad().to_vector();
      for (size_t i = 0; i < want.size(); ++i) {
        if (mask_values[i] == 0) want[i] = 0;
        REQUIRE(std::isfinite(want[i]));
      }
      check_exact(x.grad(), want);
    }
  }
}

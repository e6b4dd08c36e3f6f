// tests/autograd/test_ops_elementwise.cpp — forward values of the element-wise ops
// (binary with NumPy broadcasting, comparisons, scalar forms, pow, every unary op and
// activation) and of the selection ops (where, masked_fill), compared with plain
// loops in double or hand-computed numbers, including the saturating activations at
// large |x|. The other ops' values: test_ops_reduce.cpp, test_ops_matmul.cpp,
// test_ops_shape.cpp; gradients: test_gradcheck.cpp; errors: test_errors.cpp.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "autograd/ops.h"
#include "core/tensor.h"
#include "tests/autograd/ops_testing.h"
#include "tests/thread_count.h"

using ta::Shape;
using ta::Tensor;
using namespace ta::testing;

namespace {

Host ref_binary(const Host& a, const Host& b, const std::function<double(double, double)>& f) {
  Host out{broadcast_dims(a.dims, b.dims), {}};
  if (a.dims == b.dims) {  // no broadcasting: skip the index arithmetic
    for (size_t i = 0; i < a.v.size(); ++i) out.v.push_back(f(a.v[i], b.v[i]));
    return out;
  }
  for (int64_t i = 0; i < product(out.dims); ++i) {
    std::vector<int64_t> idx = unravel(i, out.dims);
    out.v.push_back(f(a.v[broadcast_offset(idx, a.dims)], b.v[broadcast_offset(idx, b.dims)]));
  }
  return out;
}

Host ref_map(const Host& x, const std::function<double(double)>& f) {
  Host out = x;
  for (double& e : out.v) e = f(e);
  return out;
}

// A binary op and its definition, for the table-driven tests.
struct BinaryCase {
  const char* name;
  Tensor (*op)(const Tensor&, const Tensor&);
  double (*ref)(double, double);
};

const BinaryCase kBinaryOps[] = {
    {"add", ta::add, [](double a, double b) { return a + b; }},
    {"sub", ta::sub, [](double a, double b) { return a - b; }},
    {"mul", ta::mul, [](double a, double b) { return a * b; }},
    {"div", ta::div, [](double a, double b) { return a / b; }},
    {"maximum", ta::maximum, [](double a, double b) { return std::max(a, b); }},
    {"minimum", ta::minimum, [](double a, double b) { return std::min(a, b); }},
    {"eq", ta::eq, [](double a, double b) { return double(a == b); }},
    {"ne", ta::ne, [](double a, double b) { return double(a != b); }},
    {"lt", ta::lt, [](double a, double b) { return double(a < b); }},
    {"le", ta::le, [](double a, double b) { return double(a <= b); }},
    {"gt", ta::gt, [](double a, double b) { return double(a > b); }},
    {"ge", ta::ge, [](double a, double b) { return double(a >= b); }},
};

// Values on a coarse grid (multiples of 0.5 in [-2, 2], never 0) so comparisons
// meet ties and div never meets zero.
Tensor grid(const Shape& shape, uint64_t seed) {
  std::vector<float> v = rand(shape, seed, 0.0f, 8.0f).to_vector();
  for (float& x : v) x = x < 4.0f ? -2.0f + 0.5f * std::floor(x) : 0.5f + 0.5f * std::floor(x - 4.0f);
  return T(v, shape);
}

// A one-input op and its definition, with inputs inside its domain.
struct UnaryCase {
  const char* name;
  Tensor (*op)(const Tensor&);
  double (*ref)(double);
  bool positive_only;
};

double sigmoid_ref(double x) { return 1.0 / (1.0 + std::exp(-x)); }
double gelu_erf_ref(double x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); }
double gelu_tanh_ref(double x) {
  return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
}

const UnaryCase kUnaryOps[] = {
    {"neg", ta::neg, [](double x) { return -x; }, false},
    {"exp", ta::exp, [](double x) { return std::exp(x); }, false},
    {"log", ta::log, [](double x) { return std::log(x); }, true},
    {"sqrt", ta::sqrt, [](double x) { return std::sqrt(x); }, true},
    {"rsqrt", ta::rsqrt, [](double x) { return 1.0 / std::sqrt(x); }, true},
    {"abs", ta::abs, [](double x) { return std::abs(x); }, false},
    {"tanh", ta::tanh, [](double x) { return std::tanh(x); }, false},
    {"sigmoid", ta::sigmoid, sigmoid_ref, false},
    {"relu", ta::relu, [](double x) { return std::max(x, 0.0); }, false},
    {"relu_squared", ta::relu_squared, [](double x) { return x > 0 ? x * x : 0.0; }, false},
    {"gelu(erf)", [](const Tensor& x) { return ta::gelu(x, ta::GeluApprox::Erf); }, gelu_erf_ref, false},
    {"gelu(tanh)", [](const Tensor& x) { return ta::gelu(x, ta::GeluApprox::Tanh); }, gelu_tanh_ref, false},
    {"gelu(default)", [](const Tensor& x) { return ta::gelu(x); }, gelu_erf_ref, false},
    {"silu", ta::silu, [](double x) { return x * sigmoid_ref(x); }, false},
    {"softplus", ta::softplus, [](double x) { return std::log1p(std::exp(x)); }, false},
    {"elu", [](const Tensor& x) { return ta::elu(x); }, [](double x) { return x > 0 ? x : std::expm1(x); }, false},
};

}  // namespace

// ---- element-wise ---------------------------------------------------------------

TEST_CASE("binary ops broadcast NumPy-style") {
  const std::pair<Shape, Shape> shapes[] = {
      {{3, 1}, {1, 4}},  {{2, 3, 4}, {4}},     {{4}, {2, 3, 4}},     {{}, {2, 3}},
      {{2, 3}, {}},      {{}, {}},             {{1}, {1}},           {{2, 1, 3}, {4, 1}},
      {{3, 5}, {1, 5}},  {{5, 7}, {5, 7}},     {{0, 3}, {3}},        {{2, 1, 2, 1, 2, 1}, {1, 2, 1, 2, 1, 2}},
      {{64, 257}, {257}}, {{100003}, {100003}},
  };
  for (const BinaryCase& c : kBinaryOps) {
    for (const auto& [sa, sb] : shapes) {
      const std::string a_shape = sa.str(), b_shape = sb.str();  // clang 14: doctest's messages cannot name a binding
      CAPTURE(c.name);
      CAPTURE(a_shape);
      CAPTURE(b_shape);
      Tensor a = grid(sa, 1), b = grid(sb, 2);
      check_close(c.op(a, b), ref_binary(host(a), host(b), c.ref), 1e-6, 1e-6);
    }
  }
}

// Large enough to be split over threads (core/cpu/parallel.h), with the split points
// inside rows: a single merged row, few long rows, many short rows with a broadcast
// inner dimension, and three-dimensional plans; at 2 and 3 threads.
TEST_CASE("element-wise ops split over threads inside rows") {
  const std::pair<Shape, Shape> shapes[] = {
      {{100003}, {100003}}, {{3, 40001}, {40001}}, {{40001, 3}, {40001, 1}},
      {{2, 30011, 2}, {30011, 1}}, {{5, 1, 7001}, {1, 3, 7001}},
  };
  for (int threads : {2, 3}) {
    CAPTURE(threads);
    const ThreadCount use(threads);
    for (const auto& [sa, sb] : shapes) {
      const std::string a_shape = sa.str(), b_shape = sb.str();
      CAPTURE(a_shape);
      CAPTURE(b_shape);
      Tensor a = grid(sa, 1), b = grid(sb, 2);
      for (const BinaryCase& c : kBinaryOps) {
        CAPTURE(c.name);
        check_close(c.op(a, b), ref_binary(host(a), host(b), c.ref), 1e-6, 1e-6);
      }
    }
    // where: mask [3, 1], a [3, 40001], b [40001]; broadcast_to: [40001, 1] -> [40001, 3].
    Tensor mask = T({1, 0, 1}, {3, 1}), a = rand({3, 40001}, 3), b = rand({40001}, 4);
    Host want = host(a), hb = host(b);
    for (int64_t j = 0; j < 40001; ++j) want.v[40001 + j] = hb.v[j];
    check_close(ta::where(mask, a, b), want, 0, 0);
    Tensor column = rand({40001, 1}, 5);
    Host wide{{40001, 3}, {}}, hc = host(column);
    for (double x : hc.v) wide.v.insert(wide.v.end(), 3, x);
    check_close(ta::broadcast_to(column, {40001, 3}), wide, 0, 0);
  }
}

TEST_CASE("comparisons give exactly 1 or 0") {
  Tensor a = T({1, 2, 3, 4, 5, 6}, {2, 3}), b = T({1, 5, 3}, {3});
  check_values(ta::eq(a, b), {2, 3}, {1, 0, 1, 0, 1, 0}, 0, 0);
  check_values(ta::ne(a, b), {2, 3}, {0, 1, 0, 1, 0, 1}, 0, 0);
  check_values(ta::lt(a, b), {2, 3}, {0, 1, 0, 0, 0, 0}, 0, 0);
  check_values(ta::le(a, b), {2, 3}, {1, 1, 1, 0, 1, 0}, 0, 0);
  check_values(ta::gt(a, b), {2, 3}, {0, 0, 0, 1, 0, 1}, 0, 0);
  check_values(ta::ge(a, b), {2, 3}, {1, 0, 1, 1, 1, 1}, 0, 0);
  check_values(ta::gt(a, Tensor::scalar(3.5f)), {2, 3}, {0, 0, 0, 1, 1, 1}, 0, 0);
}

TEST_CASE("operators and scalar forms") {
  Tensor a = T({1, -2, 3.5f, 0}, {2, 2}), b = T({2, 4}, {2});
  check_values(a + b, {2, 2}, {3, 2, 5.5, 4});
  check_values(a - b, {2, 2}, {-1, -6, 1.5, -4});
  check_values(a * b, {2, 2}, {2, -8, 7, 0});
  check_values(a / b, {2, 2}, {0.5, -0.5, 1.75, 0});
  check_values(-a, {2, 2}, {-1, 2, -3.5, 0});
  check_values(ta::add(a, 1.5f), {2, 2}, {2.5, -0.5, 5, 1.5});
  check_values(ta::mul(a, -2.0f), {2, 2}, {-2, 4, -7, 0});
  check_values(a + 1.0f, {2, 2}, {2, -1, 4.5, 1});
  check_values(1.0f + a, {2, 2}, {2, -1, 4.5, 1});
  check_values(a - 1.0f, {2, 2}, {0, -3, 2.5, -1});
  check_values(1.0f - a, {2, 2}, {0, 3, -2.5, 1});
  check_values(a * 3.0f, {2, 2}, {3, -6, 10.5, 0});
  check_values(3.0f * a, {2, 2}, {3, -6, 10.5, 0});
  check_values(a / 4.0f, {2, 2}, {0.25, -0.5, 0.875, 0});
  check_values(ta::add(Tensor::scalar(2), 3.0f), {}, {5});
  check_values(ta::mul(Tensor::zeros({0, 2}), 3.0f), {0, 2}, {});
}

TEST_CASE("pow with a scalar exponent") {
  Tensor x = T({0.5f, 1, 2, 3}, {4});
  check_values(ta::pow(x, 2.0f), {4}, {0.25, 1, 4, 9});
  check_values(ta::pow(x, 0.5f), {4}, {std::sqrt(0.5), 1, std::sqrt(2.0), std::sqrt(3.0)});
  check_values(ta::pow(x, -1.0f), {4}, {2, 1, 0.5, 1.0 / 3});
  check_values(ta::pow(x, 0.0f), {4}, {1, 1, 1, 1});
  check_values(ta::pow(x, 1.5f), {4}, {std::pow(0.5, 1.5), 1, std::pow(2.0, 1.5), std::pow(3.0, 1.5)});
  SUBCASE("negative bases with whole exponents, and zero") {
    Tensor n = T({-2, -1, 0, 2}, {2, 2});
    check_values(ta::pow(n, 2.0f), {2, 2}, {4, 1, 0, 4});
    check_values(ta::pow(n, 3.0f), {2, 2}, {-8, -1, 0, 8});
  }
}

TEST_CASE("unary ops match their definitions") {
  const std::vector<float> general = {-6, -3, -1.5f, -0.5f, -1e-3f, 0, 1e-3f, 0.3f, 1, 2.5f, 4, 6};
  const std::vector<float> positive = {1e-3f, 0.01f, 0.5f, 1, 2, 10, 1000};
  for (const UnaryCase& c : kUnaryOps) {
    CAPTURE(c.name);
    const std::vector<float>& v = c.positive_only ? positive : general;
    Tensor small = T(v, {int64_t(v.size())});
    check_close(c.op(small), ref_map(host(small), c.ref), 1e-6, 1e-5);
    // A long input, so vectorized and multi-threaded paths run too.
    Tensor big = c.positive_only ? rand({3, 10007}, 9, 0.01f, 5.0f) : rand({3, 10007}, 9, -5.0f, 5.0f);
    check_close(c.op(big), ref_map(host(big), c.ref), 1e-6, 1e-5);
    // Scalars and empty tensors keep their shapes.
    check_close(c.op(Tensor::scalar(1.0f)), Host{{}, {c.ref(1.0)}}, 1e-6, 1e-5);
    check_close(c.op(Tensor::zeros({2, 0})), Host{{2, 0}, {}});
  }
}

TEST_CASE("gelu known values") {
  Tensor one = Tensor::scalar(1.0f);
  CHECK(ta::gelu(one, ta::GeluApprox::Erf).item() == doctest::Approx(0.8413447).epsilon(1e-6));
  CHECK(ta::gelu(one, ta::GeluApprox::Tanh).item() == doctest::Approx(0.8411920).epsilon(1e-6));
  CHECK(ta::gelu(Tensor::scalar(-1.0f)).item() == doctest::Approx(-0.1586553).epsilon(1e-5));
  CHECK(ta::gelu(Tensor::scalar(0.0f)).item() == 0.0f);
}

TEST_CASE("elu: alpha scales the negative side, small |x| stays exact, large -x tends to -alpha") {
  const std::vector<float> xs = {-100, -3, -1e-4f, -1e-7f, 0, 1e-7f, 2, 100};
  for (float alpha : {1.0f, 0.5f, 2.0f}) {
    CAPTURE(alpha);
    std::vector<double> want;
    for (float x : xs) want.push_back(x > 0 ? x : alpha * std::expm1(static_cast<double>(x)));
    check_values(ta::elu(T(xs, {8}), alpha), {8}, want, 1e-12, 1e-6);  // relative: -1e-7 gives -1e-7 alpha
  }
  check_values(ta::elu(T({-kInf, kInf}, {2}), 1.5f), {2}, {-1.5, kInf});
}

TEST_CASE("activations stay finite and exact at large |x|") {
  Tensor x = T({-100, -30, 30, 100}, {4});
  check_values(ta::softplus(x), {4}, {std::exp(-100.0), std::exp(-30.0), 30, 100}, 1e-12, 1e-6);
  check_values(ta::sigmoid(x), {4}, {std::exp(-100.0), std::exp(-30.0), 1, 1}, 1e-12, 1e-6);
  check_values(ta::tanh(x), {4}, {-1, -1, 1, 1}, 0, 0);
  check_values(ta::silu(x), {4}, {-100 * std::exp(-100.0), -30 * std::exp(-30.0), 30, 100}, 1e-12, 1e-6);
  check_values(ta::gelu(x, ta::GeluApprox::Erf), {4}, {0, 0, 30, 100}, 1e-12, 1e-6);
  check_values(ta::gelu(x, ta::GeluApprox::Tanh), {4}, {0, 0, 30, 100}, 1e-12, 1e-6);
  // e^100 ~ 2.7e43 is past FLT_MAX ~ 3.4e38: it overflows to +inf.
  check_values(ta::exp(x), {4}, {std::exp(-100.0), std::exp(-30.0), std::exp(30.0), kInf}, 1e-12, 1e-5);
  check_values(ta::softplus(Tensor::scalar(kInf)), {}, {kInf});
  check_values(ta::sigmoid(T({-kInf, kInf}, {2})), {2}, {0, 1}, 0, 0);
  check_values(ta::relu(T({-kInf, kInf}, {2})), {2}, {0, kInf});
  check_values(ta::log(T({0}, {1})), {1}, {-kInf});
}

// ---- selection ------------------------------------------------------------------

TEST_CASE("where broadcasts mask, a and b together") {
  Tensor mask = T({1, 0, -2}, {3, 1});  // any non-zero counts as true
  Tensor a = T({10, 20, 30, 40}, {1, 4}), b = Tensor::scalar(-1);
  check_values(ta::where(mask, a, b), {3, 4}, {10, 20, 30, 40, -1, -1, -1, -1, 10, 20, 30, 40});
  Tensor a2 = rand({2, 3}, 4), b2 = rand({2, 3}, 5), m2 = T({0, 1, 1, 0, 0, 1}, {2, 3});
  Host want = host(a2), hm = host(m2), hb = host(b2);
  for (size_t i = 0; i < want.v.size(); ++i) want.v[i] = hm.v[i] != 0 ? want.v[i] : hb.v[i];
  check_close(ta::where(m2, a2, b2), want, 0, 0);
  check_values(ta::where(Tensor::scalar(1), Tensor::scalar(2), Tensor::scalar(3)), {}, {2});
}

TEST_CASE("masked_fill") {
  Tensor x = T({1, 2, 3, 4, 5, 6}, {2, 3});
  check_values(ta::masked_fill(x, T({0, 1, 0}, {3}), -kInf), {2, 3}, {1, -kInf, 3, 4, -kInf, 6});
  check_values(ta::masked_fill(x, T({1, 0}, {2, 1}), 0.5f), {2, 3}, {0.5, 0.5, 0.5, 4, 5, 6});
  check_values(ta::masked_fill(x, T({0, 0, 0, 0, 0, 0}, {2, 3}), 9), {2, 3}, {1, 2, 3, 4, 5, 6});
  check_values(ta::masked_fill(x, Tensor::scalar(1), 7), {2, 3}, {7, 7, 7, 7, 7, 7});
}

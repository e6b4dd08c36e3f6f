// tests/autograd/test_errors.cpp — every error a user can cause through the public
// API: each must throw ta::Error (never abort, never another exception type), and
// its message must name the op and the offending shape or value. Message checks are
// substring checks, case-insensitive, so wording may change freely.
#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "autograd/engine.h"
#include "autograd/ops.h"
#include "core/backend.h"
#include "core/error.h"
#include "core/tensor.h"
#include "tests/testing.h"

using ta::Shape;
using ta::Tensor;

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return s;
}

using ta::testing::error_message;

Tensor T(const std::vector<float>& values, const Shape& shape) { return Tensor::from_vector(values, shape); }

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

}  // namespace

// CHECK_ERROR(expr, "part", ...): expr throws ta::Error and its message contains each
// part (case-insensitive). Reported at the caller's line.
#define CHECK_ERROR(expr, ...)                                                                        \
  do {                                                                                                \
    CHECK_THROWS_AS((void)(expr), ta::Error);                                                         \
    std::string msg_ = error_message([&] { (void)(expr); });                                          \
    for (const std::string part_ : {__VA_ARGS__}) {                                                   \
      if (lower(msg_).find(lower(part_)) == std::string::npos)                                        \
        FAIL_CHECK("message \"" << msg_ << "\" should mention \"" << part_ << "\"");                  \
    }                                                                                                 \
  } while (0)

TEST_CASE("errors: broadcasting mismatches name the op and both shapes") {
  struct Case {
    const char* name;
    Tensor (*op)(const Tensor&, const Tensor&);
  };
  const Case ops[] = {{"add", ta::add},         {"sub", ta::sub},         {"mul", ta::mul}, {"div", ta::div},
                      {"maximum", ta::maximum}, {"minimum", ta::minimum}, {"eq", ta::eq},   {"ne", ta::ne},
                      {"lt", ta::lt},           {"le", ta::le},           {"gt", ta::gt},   {"ge", ta::ge}};
  Tensor a = Tensor::zeros({2, 3}), b = Tensor::zeros({4});
  for (const Case& c : ops) {
    CAPTURE(c.name);
    CHECK_ERROR(c.op(a, b), c.name, "[2, 3]", "[4]");
  }
  CHECK_ERROR(a + Tensor::zeros({3, 3}), "add", "[2, 3]", "[3, 3]");
  CHECK_ERROR(ta::where(Tensor::zeros({2}), a, Tensor::zeros({3})), "where", "[2]");
  CHECK_ERROR(ta::masked_fill(a, Tensor::zeros({4}), 0.0f), "masked_fill", "[4]");
  // The mask broadcasts to x, never x to the mask.
  CHECK_ERROR(ta::masked_fill(Tensor::zeros({3}), Tensor::zeros({2, 3}), 0.0f), "masked_fill", "[2, 3]");
  CHECK_ERROR(ta::broadcast_to(a, {4, 3}), "broadcast_to", "[2, 3]", "[4, 3]");
  CHECK_ERROR(ta::broadcast_to(a, {3}), "broadcast_to", "[2, 3]", "[3]");
}

TEST_CASE("errors: matmul shapes") {
  CHECK_ERROR(ta::matmul(Tensor::zeros({2, 3}), Tensor::zeros({4, 5})), "matmul", "[2, 3]", "[4, 5]");
  // With Transposed::A, a [3, 2] is read as [2, 3]: inner 3 against b's 4.
  CHECK_ERROR(ta::matmul(Tensor::zeros({3, 2}), Tensor::zeros({4, 5}), ta::Transposed::A), "matmul", "[3, 2]",
              "[4, 5]");
  // With Transposed::B, b [5, 4] is read as [4, 5]: inner 4 against a's 3.
  CHECK_ERROR(ta::matmul(Tensor::zeros({2, 3}), Tensor::zeros({5, 4}), ta::Transposed::B), "matmul", "[2, 3]",
              "[5, 4]");
  CHECK_ERROR(ta::matmul(Tensor::zeros({2, 3, 4}), Tensor::zeros({3, 4, 5})), "matmul", "[2, 3, 4]", "[3, 4, 5]");
  CHECK_ERROR(ta::matmul(Tensor::zeros({3}), Tensor::zeros({3, 2})), "matmul", "[3]");
  CHECK_ERROR(ta::matmul(Tensor::zeros({2, 3}), Tensor::zeros({3})), "matmul", "[3]");
  CHECK_ERROR(ta::matmul(Tensor::scalar(1), Tensor::scalar(1)), "matmul");
}

TEST_CASE("errors: linear shapes") {
  CHECK_ERROR(ta::linear(Tensor::zeros({2, 3}), Tensor::zeros({5, 4})), "linear", "[2, 3]", "[5, 4]");
  CHECK_ERROR(ta::linear(Tensor::zeros({2, 4}), Tensor::zeros({4})), "linear", "weight", "[4]");
  CHECK_ERROR(ta::linear(Tensor::zeros({2, 4}), Tensor::zeros({5, 4}), Tensor::zeros({4})), "linear", "bias", "[4]");
  CHECK_ERROR(ta::linear(Tensor::scalar(1), Tensor::zeros({5, 4})), "linear", "[]");
  CHECK_ERROR(ta::linear(Tensor(), Tensor::zeros({5, 4})), "linear", "x");
}

TEST_CASE("errors: axes out of range") {
  Tensor x = Tensor::zeros({2, 3, 4});
  CHECK_ERROR(ta::sum(x, {3}), "sum", "3");
  CHECK_ERROR(ta::mean(x, {-4}), "mean", "-4");
  CHECK_ERROR(ta::max(x, {0, 7}), "max", "7");
  CHECK_ERROR(ta::logsumexp(x, {5}), "logsumexp", "5");
  CHECK_ERROR(ta::softmax(x, 3), "softmax", "3");
  CHECK_ERROR(ta::log_softmax(x, -4), "log_softmax", "-4");
  CHECK_ERROR(ta::cumsum(x, 3), "cumsum", "3");
  CHECK_ERROR(ta::transpose(x, 0, 3), "transpose", "3");
  CHECK_ERROR(ta::permute(x, {0, 1}), "permute");
  CHECK_ERROR(ta::permute(x, {0, 0, 1}), "permute");
  CHECK_ERROR(ta::permute(x, {0, 1, 3}), "permute", "3");
  CHECK_ERROR(ta::unsqueeze(x, 5), "unsqueeze", "5");
  CHECK_ERROR(ta::squeeze(x, 4), "squeeze", "4");
  CHECK_ERROR(ta::narrow(x, 3, 0, 1), "narrow", "3");
  CHECK_ERROR(ta::slice(x, -4, 0, 1), "slice", "-4");
  CHECK_ERROR(ta::index_select(x, 3, T({0}, {1})), "index_select", "3");
  CHECK_ERROR(ta::gather(x, 3, Tensor::zeros({2, 3, 4})), "gather", "3");
  CHECK_ERROR(ta::concat({x, x}, 3), "concat", "3");
  CHECK_ERROR(ta::split(x, {1, 1}, 3), "split", "3");
  CHECK_ERROR(ta::stack({x, x}, 5), "stack", "5");
  CHECK_ERROR(x.size(3), "3");
  CHECK_ERROR(x.size(-4), "-4");
}

TEST_CASE("errors: reshape must keep the number of elements") {
  Tensor x = Tensor::zeros({2, 3});
  CHECK_ERROR(ta::reshape(x, {4, 2}), "reshape", "[2, 3]", "[4, 2]");
  CHECK_ERROR(ta::reshape(x, {4, -1}), "reshape", "[2, 3]");
  CHECK_ERROR(ta::reshape(x, {-1, -1}), "reshape");
  CHECK_ERROR(ta::reshape(x, {7}), "reshape", "[7]");
  CHECK_ERROR(ta::reshape(x, {}), "reshape", "[2, 3]");
}

TEST_CASE("errors: bad index values in index_select, gather and embedding") {
  struct Bad {
    float value;
    const char* shown;  // how the message should show it
  };
  const Bad bad_values[] = {{7.0f, "7"}, {1.5f, "1.5"}, {-1.0f, "-1"}, {kNaN, "nan"}, {kInf, "inf"}};
  Tensor x = Tensor::zeros({4, 3});
  for (const Bad& bad : bad_values) {
    std::string shown = bad.shown;
    CAPTURE(shown);
    CHECK_ERROR(ta::index_select(x, 0, T({0, bad.value}, {2})), "index_select", bad.shown);
    CHECK_ERROR(ta::gather(x, 1, T({0, 1, bad.value, 2, 0, 0, 1, 1}, {4, 2})), "gather", bad.shown);
    CHECK_ERROR(ta::embedding(x, T({1, bad.value, 0}, {3})), "embedding", bad.shown);
  }
  SUBCASE("index shapes") {
    CHECK_ERROR(ta::index_select(x, 0, Tensor::zeros({2, 2})), "index_select", "[2, 2]");
    CHECK_ERROR(ta::gather(x, 1, Tensor::zeros({4})), "gather", "[4]");
    CHECK_ERROR(ta::gather(x, 1, Tensor::zeros({5, 2})), "gather", "[5, 2]");
    CHECK_ERROR(ta::embedding(Tensor::zeros({4}), T({0}, {1})), "embedding", "[4]");
  }
}

TEST_CASE("errors: cross_entropy targets") {
  Tensor logits = Tensor::zeros({3, 4});
  CHECK_ERROR(ta::cross_entropy(logits, T({0, 7, 1}, {3})), "cross_entropy", "7");
  CHECK_ERROR(ta::cross_entropy(logits, T({0, -1, 1}, {3})), "cross_entropy", "-1");
  CHECK_ERROR(ta::cross_entropy(logits, T({0, 1.5f, 1}, {3})), "cross_entropy", "1.5");
  CHECK_ERROR(ta::cross_entropy(logits, T({0, kNaN, 1}, {3})), "cross_entropy", "nan");
  CHECK_ERROR(ta::cross_entropy(logits, T({0, 1}, {2})), "cross_entropy", "[3, 4]", "[2]");
  CHECK_ERROR(ta::cross_entropy(logits, T({0, 1, 2}, {3, 1})), "cross_entropy", "[3, 4]", "[3, 1]");
  CHECK_ERROR(ta::cross_entropy(Tensor::scalar(1), Tensor::scalar(0)), "cross_entropy");
  // -100 is only special as the ignore_index; with another ignore_index it is out of range.
  CHECK_ERROR(ta::cross_entropy(logits, T({0, -100, 1}, {3}), 2), "cross_entropy", "-100");
}

TEST_CASE("errors: autograd misuse") {
  Tensor x = Tensor::ones({2, 3});
  x.set_requires_grad();
  Tensor y = ta::mul(x, 2.0f);
  CHECK_ERROR(y.set_requires_grad(), "requires_grad", "leaf");
  CHECK_ERROR(ta::backward(y), "backward", "[2, 3]");
  CHECK_ERROR(ta::backward(y, Tensor::ones({3, 2})), "backward", "[3, 2]", "[2, 3]");
}

TEST_CASE("errors: tensor creation and reading") {
  CHECK_ERROR(Tensor::ones({2, 3}).item(), "item", "[2, 3]");
  CHECK_ERROR(Tensor::ones({0}).item(), "item", "[0]");
  CHECK_ERROR(Tensor::arange(0, 5, 0), "arange", "step");
  CHECK_ERROR(Tensor::normal({3}, 0.0f, -1.5f), "normal", "-1.5");
  CHECK_ERROR(Tensor::from_vector({1, 2, 3, 4, 5}, {2, 3}), "from_vector", "5", "[2, 3]");
  CHECK_ERROR(Tensor::ones({2, 3}).at({2, 0}), "[2, 3]");
  CHECK_ERROR(Tensor::ones({2, 3}).at({0}), "[2, 3]");
  CHECK_ERROR(Shape({1, 2, 3, 4, 5, 6, 7}), "7");
  CHECK_ERROR(Shape(std::vector<int64_t>(7, 1)), "7");
  CHECK_ERROR(ta::unsqueeze(Tensor::zeros({1, 1, 1, 1, 1, 1}), 0), "unsqueeze");
  if (!ta::cuda_available()) CHECK_ERROR(Tensor::zeros({2}, ta::Device::CUDA), "cuda");
}

TEST_CASE("errors: concat, split, stack and narrow") {
  Tensor a = Tensor::zeros({2, 3});
  CHECK_ERROR(ta::concat({a, Tensor::zeros({2, 4})}, 0), "concat", "[2, 3]", "[2, 4]");
  CHECK_ERROR(ta::concat({a, Tensor::zeros({3})}, 0), "concat", "[2, 3]", "[3]");
  CHECK_ERROR(ta::concat({}, 0), "concat");
  CHECK_ERROR(ta::stack({a, Tensor::zeros({3, 2})}, 0), "stack", "[2, 3]", "[3, 2]");
  CHECK_ERROR(ta::stack({}, 0), "stack");
  Tensor x = Tensor::zeros({2, 5});
  CHECK_ERROR(ta::split(x, {2, 2}, 1), "split", "4", "5");
  CHECK_ERROR(ta::split(x, {2, 4}, 1), "split", "6", "5");
  CHECK_ERROR(ta::split(x, {6, -1}, 1), "split", "-1");
  CHECK_ERROR(ta::narrow(x, 1, 3, 3), "narrow", "[2, 5]");
  CHECK_ERROR(ta::narrow(x, 1, -1, 2), "narrow", "-1");
  CHECK_ERROR(ta::narrow(x, 1, 0, -2), "narrow", "-2");
}

TEST_CASE("errors: undefined tensor arguments name the op") {
  Tensor u, x = Tensor::ones({2, 2});
  CHECK_ERROR(ta::add(u, x), "add", "defined");
  CHECK_ERROR(ta::mul(x, u), "mul", "defined");
  CHECK_ERROR(ta::add(u, 1.0f), "add", "defined");
  CHECK_ERROR(ta::exp(u), "exp", "defined");
  CHECK_ERROR(ta::gelu(u), "gelu", "defined");
  CHECK_ERROR(ta::sum(u), "sum", "defined");
  CHECK_ERROR(ta::softmax(u), "softmax", "defined");
  CHECK_ERROR(ta::matmul(x, u), "matmul", "defined");
  CHECK_ERROR(ta::reshape(u, {4}), "reshape", "defined");
  CHECK_ERROR(ta::transpose(u, 0, 1), "transpose", "defined");
  CHECK_ERROR(ta::concat({x, u}, 0), "concat", "defined");
  CHECK_ERROR(ta::where(u, x, x), "where", "defined");
  CHECK_ERROR(ta::index_select(x, 0, u), "index_select", "defined");
  CHECK_ERROR(ta::embedding(u, T({0}, {1})), "embedding", "defined");
  CHECK_ERROR(ta::cross_entropy(u, T({0}, {1})), "cross_entropy", "defined");
  CHECK_ERROR(ta::backward(u), "backward", "defined");
}

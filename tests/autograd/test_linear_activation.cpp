// tests/autograd/test_linear_activation.cpp — linear with its activation fused into the
// product, ta::linear(x, W, b, act), against the unfused composition written from other
// ops: act(matmul(x, W^T) + b), whose forward and backward share no code with linear's
// (matmul's backward, add's sum_to, the activation op's own node). Outputs and the
// gradients of x, W and b, for every activation, with and without a bias.
//
// Sizes cross every block of the GEMM (core/cpu/gemm/blocking.h; the AVX-512 kernel's
// tile is MR x NR = 12 x 32, blocks MC = 96 rows, KC = 256 deep, NC = 512 columns):
// rows, input features and outputs each below, at, just above and several times their
// blocks and tiles, and at odd sizes between; 16 outputs or fewer go to OpenBLAS and
// its epilogue pass (core/cpu/gemm/dispatch.cpp), 17 to ours. The largest products
// are split over threads. The gradcheck cases (test_gradcheck.cpp) check the same op
// against finite differences on small shapes.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "autograd/engine.h"
#include "autograd/ops.h"
#include "core/backend.h"
#include "core/tensor.h"
#include "tests/testing.h"

namespace {

using ta::EpilogueActivation;
using ta::Shape;
using ta::Tensor;

const EpilogueActivation kActivations[] = {EpilogueActivation::None, EpilogueActivation::Relu,
                                           EpilogueActivation::GeluErf, EpilogueActivation::GeluTanh,
                                           EpilogueActivation::Silu};

// The element-wise op the fused activation stands for.
Tensor activation_op(EpilogueActivation act, const Tensor& x) {
  switch (act) {
    case EpilogueActivation::None: return x;
    case EpilogueActivation::Relu: return ta::relu(x);
    case EpilogueActivation::GeluErf: return ta::gelu(x, ta::GeluApprox::Erf);
    case EpilogueActivation::GeluTanh: return ta::gelu(x, ta::GeluApprox::Tanh);
    case EpilogueActivation::Silu: return ta::silu(x);
  }
  return Tensor();
}

// The same layer without the fusion: x as [rows, in], the product, the bias, the activation.
Tensor unfused(const Tensor& x, const Tensor& w, const Tensor& b, EpilogueActivation act) {
  std::vector<int64_t> dims = x.shape().vec();
  dims.back() = w.size(0);
  Tensor pre = ta::matmul(ta::reshape(x, {-1, x.size(-1)}), w, ta::Transposed::B);
  if (b.defined()) pre = pre + b;
  return activation_op(act, ta::reshape(pre, Shape(dims)));
}

// |a - b| <= 1e-5 (1 + max |b|) everywhere: the two sum in different orders (rounding,
// relative to the largest value), while a wrong index, a lost block or a missed bias or
// slope is off by whole terms.
void check_close(const Tensor& a, const Tensor& b, const char* what) {
  CAPTURE(what);
  REQUIRE(a.defined());
  REQUIRE(a.shape() == b.shape());
  const std::vector<float> va = a.to_vector(), vb = b.to_vector();
  float scale = 0.0f;
  for (float v : vb) scale = std::max(scale, std::fabs(v));
  for (size_t i = 0; i < va.size(); ++i) {
    if (std::fabs(va[i] - vb[i]) <= 1e-5f * (1.0f + scale)) continue;
    CAPTURE(i);
    CAPTURE(va[i]);
    CAPTURE(vb[i]);
    CAPTURE(scale);
    FAIL("differs");
  }
}

struct Result {
  Tensor y, dx, dw, db;
};

using Layer = std::function<Tensor(const Tensor&, const Tensor&, const Tensor&)>;

// y = layer(x, w, b), then backward with upstream gradient dy; the gradients read off.
Result run(const Layer& layer, const Tensor& x0, const Tensor& w0, const Tensor& b0, const Tensor& dy) {
  Tensor x = x0.detach().set_requires_grad(), w = w0.detach().set_requires_grad();
  Tensor b = b0.defined() ? b0.detach().set_requires_grad() : Tensor();
  Tensor y = layer(x, w, b);
  ta::backward(y, dy);
  return {y, x.grad(), w.grad(), b.defined() ? b.grad() : Tensor()};
}

// x [lead..., in] against the composition for every activation, with and without bias.
void check_sizes(const Shape& x_shape, int64_t out, uint64_t seed) {
  const int64_t in = x_shape[x_shape.ndim() - 1];
  CAPTURE(x_shape.str());
  CAPTURE(out);
  ta::Generator gen(seed);
  std::vector<int64_t> y_dims = x_shape.vec();
  y_dims.back() = out;
  // W of std 1/sqrt(in) keeps the pre-activations about N(0, 2) with the bias: the
  // activations' curved parts, both sides of zero.
  const Tensor x = Tensor::normal(x_shape, 0.0f, 1.0f, gen);
  const Tensor w = Tensor::normal(Shape{out, in}, 0.0f, 1.0f / std::sqrt(static_cast<float>(std::max<int64_t>(in, 1))), gen);
  const Tensor b = Tensor::normal(Shape{out}, 0.0f, 1.0f, gen);
  const Tensor dy = Tensor::normal(Shape(y_dims), 0.0f, 1.0f, gen);
  for (EpilogueActivation act : kActivations)
    for (const Tensor& bias : {b, Tensor()}) {
      CAPTURE(static_cast<int>(act));
      CAPTURE(bias.defined());
      const Result fused = run([act](const Tensor& x_, const Tensor& w_,
                                     const Tensor& b_) { return ta::linear(x_, w_, b_, act); },
                               x, w, bias, dy);
      const Result reference = run([act](const Tensor& x_, const Tensor& w_,
                                         const Tensor& b_) { return unfused(x_, w_, b_, act); },
                                   x, w, bias, dy);
      check_close(fused.y, reference.y, "y");
      check_close(fused.dx, reference.dx, "dx");
      check_close(fused.dw, reference.dw, "dW");
      if (bias.defined()) check_close(fused.db, reference.db, "db");
    }
}

}  // namespace

TEST_CASE("linear with a fused activation: rows around the GEMM's row tile (12) and row block (96)") {
  for (int64_t rows : {1, 11, 12, 13, 95, 96, 97, 2 * 96, 3 * 96 + 5}) check_sizes(Shape{rows, 37}, 45, rows);
}

TEST_CASE("linear with a fused activation: input features around the GEMM's depth block (256)") {
  for (int64_t in : {1, 7, 255, 256, 257, 2 * 256, 2 * 256 + 3}) check_sizes(Shape{29, in}, 45, 100 + in);
}

TEST_CASE("linear with a fused activation: outputs around the column tile (32), the panel (512) and OpenBLAS's 16") {
  for (int64_t out : {1, 16, 17, 31, 32, 33, 511, 512, 513, 2 * 512 + 7}) check_sizes(Shape{29, 37}, out, 200 + out);
}

TEST_CASE("linear with a fused activation: all three beyond their blocks at once, 3-D x, split over threads") {
  check_sizes(Shape{3, 101, 600}, 1100, 300);  // 303 rows, 600 deep, 1100 outputs
  check_sizes(Shape{2, 3, 5, 7}, 9, 301);      // two leading dimensions
}

TEST_CASE("linear with a fused activation: gradients only where asked, and none recorded without any") {
  ta::Generator gen(12);
  const Tensor x = Tensor::normal(Shape{4, 6}, 0.0f, 1.0f, gen), w = Tensor::normal(Shape{5, 6}, 0.0f, 1.0f, gen);
  const Tensor b = Tensor::normal(Shape{5}, 0.0f, 1.0f, gen), dy = Tensor::normal(Shape{4, 5}, 0.0f, 1.0f, gen);
  for (EpilogueActivation act : kActivations) {
    CAPTURE(static_cast<int>(act));
    CHECK(!ta::linear(x, w, b, act).requires_grad());
    // Only the bias learns: the slope still has to come from the forward (GELU and SiLU
    // keep pre for it), and x and W get nothing.
    const Tensor bias = b.detach().set_requires_grad();
    ta::backward(ta::linear(x, w, bias, act), dy);
    Tensor bias_ref = b.detach().set_requires_grad();
    ta::backward(unfused(x, w, bias_ref, act), dy);
    check_close(bias.grad(), bias_ref.grad(), "db");
    CHECK(!x.grad().defined());
    CHECK(!w.grad().defined());
  }
}

TEST_CASE("linear with a fused activation: empty products, and errors name linear and the shapes") {
  // No input features: y = act(b) on every row; no rows: an empty y.
  const Tensor b = Tensor::from_vector({-1.0f, 0.5f, 2.0f}, {3});
  const std::vector<float> y = ta::linear(Tensor::ones({2, 0}), Tensor::ones({3, 0}), b, EpilogueActivation::Relu).to_vector();
  CHECK(y == std::vector<float>{0.0f, 0.5f, 2.0f, 0.0f, 0.5f, 2.0f});
  CHECK(ta::linear(Tensor::ones({0, 4}), Tensor::ones({3, 4}), b, EpilogueActivation::Silu).shape() == Shape{0, 3});
  const Tensor x = Tensor::zeros({4, 6});
  CHECK(ta::testing::error_message([&] { ta::linear(x, Tensor::zeros({5, 7}), Tensor(), EpilogueActivation::Silu); }) ==
        "linear: expected x [..., 7] for weight [5, 7], got [4, 6]");
  CHECK(ta::testing::error_message([&] { ta::linear(x, Tensor::zeros({5, 6}), b, EpilogueActivation::GeluErf); }) ==
        "linear: bias must be [5], got [3]");
}

// tests/autograd/test_linear_activation.cpp — linear with its activation fused into the
// product (ta::linear(x, W, b, act)) against the unfused composition, the activation op
// after linear: outputs and the gradients of x, W and b.
//
// The sizes cross the GEMM's blocks (core/cpu/gemm/blocking.h): 111 rows (9 tiles of 12
// and a part), 300 input features (two depth blocks: the epilogue must act once, on the
// whole sum) and 70 outputs (two tiles of 32 and a part). The gradcheck cases
// (test_gradcheck.cpp) check the same op against finite differences on small shapes.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
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

// |a - b| <= atol + rtol |b| elementwise.
void check_close(const Tensor& a, const Tensor& b, float atol, float rtol, const char* what) {
  CAPTURE(what);
  REQUIRE(a.shape() == b.shape());
  const std::vector<float> va = a.to_vector(), vb = b.to_vector();
  for (size_t i = 0; i < va.size(); ++i) {
    CAPTURE(i);
    REQUIRE(std::fabs(va[i] - vb[i]) <= atol + rtol * std::fabs(vb[i]));
  }
}

struct Result {
  Tensor y, dx, dw, db;
};

// y = f(x, w, b), then backward with upstream gradient dy; the gradients read off.
Result run(const std::function<Tensor(const Tensor&, const Tensor&, const Tensor&)>& f, const Tensor& x0,
           const Tensor& w0, const Tensor& b0, const Tensor& dy) {
  Tensor x = x0.detach().set_requires_grad(), w = w0.detach().set_requires_grad();
  Tensor b = b0.defined() ? b0.detach().set_requires_grad() : Tensor();
  Tensor y = f(x, w, b);
  ta::backward(y, dy);
  return {y, x.grad(), w.grad(), b.defined() ? b.grad() : Tensor()};
}

}  // namespace

TEST_CASE("linear with a fused activation: values and gradients equal the activation op after linear") {
  ta::Generator gen(11);
  const Tensor x = Tensor::normal(Shape{3, 37, 300}, 0.0f, 1.0f, gen);
  const Tensor w = Tensor::normal(Shape{70, 300}, 0.0f, 0.1f, gen);
  const Tensor b = Tensor::normal(Shape{70}, 0.0f, 1.0f, gen);
  const Tensor dy = Tensor::normal(Shape{3, 37, 70}, 0.0f, 1.0f, gen);
  for (EpilogueActivation act : {EpilogueActivation::None, EpilogueActivation::Relu, EpilogueActivation::GeluErf,
                                 EpilogueActivation::GeluTanh, EpilogueActivation::Silu})
    for (const Tensor& bias : {b, Tensor()}) {
      CAPTURE(static_cast<int>(act));
      CAPTURE(bias.defined());
      const Result fused = run([act](const Tensor& x_, const Tensor& w_,
                                     const Tensor& b_) { return ta::linear(x_, w_, b_, act); },
                               x, w, bias, dy);
      const Result unfused = run([act](const Tensor& x_, const Tensor& w_,
                                       const Tensor& b_) { return activation_op(act, ta::linear(x_, w_, b_)); },
                                 x, w, bias, dy);
      // Sums of 300 products of size ~2 (outputs) and of 111-370 (gradients) in float:
      // the two paths add them in different orders.
      check_close(fused.y, unfused.y, 1e-5f, 1e-5f, "y");
      check_close(fused.dx, unfused.dx, 1e-4f, 1e-4f, "dx");
      check_close(fused.dw, unfused.dw, 1e-3f, 1e-4f, "dw");
      if (bias.defined()) check_close(fused.db, unfused.db, 1e-3f, 1e-4f, "db");
    }
}

TEST_CASE("linear with a fused activation: without gradients it records nothing, and it checks its arguments") {
  ta::Generator gen(12);
  const Tensor x = Tensor::normal(Shape{4, 6}, 0.0f, 1.0f, gen), w = Tensor::normal(Shape{5, 6}, 0.0f, 1.0f, gen);
  const Tensor y = ta::linear(x, w, Tensor(), EpilogueActivation::GeluErf);
  CHECK(!y.requires_grad());
  const std::vector<float> got = y.to_vector(), want = ta::gelu(ta::linear(x, w)).to_vector();
  for (size_t i = 0; i < got.size(); ++i) CHECK(got[i] == doctest::Approx(want[i]).epsilon(1e-5));
  CHECK(ta::testing::error_message([&] { ta::linear(x, Tensor::zeros({5, 7}), Tensor(), EpilogueActivation::Silu); }) ==
        "linear_activation: expected x [..., 7] for weight [5, 7], got [4, 6]");
}

// One-input element-wise functions. Each backward is one fused pass,
// dx = dy * f'(x), with f' written next to f in core/cpu/elementwise.cpp.
#include "autograd/node.h"
#include "autograd/ops.h"
#include "core/kernels.h"

namespace ta {

namespace {

const OpInfo kNeg("neg"), kExp("exp"), kLog("log"), kSqrt("sqrt"), kRsqrt("rsqrt"), kAbs("abs"), kTanh("tanh"),
    kSigmoid("sigmoid"), kRelu("relu"), kReluSquared("relu_squared"), kGelu("gelu"), kSilu("silu"),
    kSoftplus("softplus"), kElu("elu");

// y = f(x), recording dx = dy * f'(x); f' may read x and y (saved detached), and
// the op's parameter (elu's alpha).
Tensor unary_op(const OpInfo& info, UnaryOp op, const Tensor& x, float param = 0.0f) {
  Tensor y = kernels::unary(op, x, param, info.name);
  record(info, y, {&x}, [op, x, y_saved = y.detach(), param](const Tensor& g) -> Grads {
    return {kernels::unary_backward(op, x, y_saved, g, param)};
  });
  return y;
}

}  // namespace

Tensor neg(const Tensor& x) { return unary_op(kNeg, UnaryOp::Neg, x); }
Tensor exp(const Tensor& x) { return unary_op(kExp, UnaryOp::Exp, x); }
Tensor log(const Tensor& x) { return unary_op(kLog, UnaryOp::Log, x); }
Tensor sqrt(const Tensor& x) { return unary_op(kSqrt, UnaryOp::Sqrt, x); }
Tensor rsqrt(const Tensor& x) { return unary_op(kRsqrt, UnaryOp::Rsqrt, x); }
Tensor abs(const Tensor& x) { return unary_op(kAbs, UnaryOp::Abs, x); }
Tensor tanh(const Tensor& x) { return unary_op(kTanh, UnaryOp::Tanh, x); }
Tensor sigmoid(const Tensor& x) { return unary_op(kSigmoid, UnaryOp::Sigmoid, x); }
Tensor relu(const Tensor& x) { return unary_op(kRelu, UnaryOp::Relu, x); }
Tensor relu_squared(const Tensor& x) { return unary_op(kReluSquared, UnaryOp::ReluSquared, x); }
Tensor gelu(const Tensor& x, GeluApprox approx) {
  return unary_op(kGelu, approx == GeluApprox::Erf ? UnaryOp::GeluErf : UnaryOp::GeluTanh, x);
}
Tensor silu(const Tensor& x) { return unary_op(kSilu, UnaryOp::Silu, x); }
Tensor softplus(const Tensor& x) { return unary_op(kSoftplus, UnaryOp::Softplus, x); }
Tensor elu(const Tensor& x, float alpha) { return unary_op(kElu, UnaryOp::Elu, x, alpha); }

}  // namespace ta

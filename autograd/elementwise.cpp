// Element-wise ops: the broadcasting binary ops and the scalar ops, the one-input
// functions, comparisons and selection by a mask.
//
// Every backward of a broadcasting op ends in sum_to: an input that was broadcast
// receives the sum of the gradient over the copies it was broadcast into (the
// reverse of broadcasting). A one-input function's backward is one fused pass,
// dx = dy * f'(x), with f' written next to f in core/elementwise_math.h.
#include "autograd/node.h"
#include "autograd/ops.h"
#include "core/error.h"
#include "core/kernels/elementwise.h"
#include "core/kernels/reduce.h"

namespace ta {

namespace {
const OpInfo kAdd("add"), kSub("sub"), kMul("mul"), kDiv("div"), kMaximum("maximum"), kMinimum("minimum");
const OpInfo kAddScalar("add_scalar"), kMulScalar("mul_scalar"), kPow("pow");

using kernels::sum_to;

// g x (local derivative) and g / (local derivative), exactly 0 where g is 0 even
// if the derivative is inf or NaN (BinaryOp::GradMul, core/elementwise_math.h).
Tensor grad_times(const Tensor& g, const Tensor& d) { return kernels::binary(BinaryOp::GradMul, g, d, "backward"); }
Tensor grad_over(const Tensor& g, const Tensor& d) { return kernels::binary(BinaryOp::GradDiv, g, d, "backward"); }
}  // namespace

// d(a + b)/da = 1, d(a + b)/db = 1
Tensor add(const Tensor& a, const Tensor& b) {
  Tensor out = kernels::binary(BinaryOp::Add, a, b, "add");
  record(kAdd, out, {&a, &b}, [sa = a.shape(), sb = b.shape()](const Tensor& g) -> Grads {
    return {sum_to(g, sa), sum_to(g, sb)};
  });
  return out;
}

// d(a - b)/da = 1, d(a - b)/db = -1
Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor out = kernels::binary(BinaryOp::Sub, a, b, "sub");
  record(kSub, out, {&a, &b}, [sa = a.shape(), sb = b.shape()](const Tensor& g) -> Grads {
    return {sum_to(g, sa), sum_to(neg(g), sb)};
  });
  return out;
}

// d(a b)/da = b, d(a b)/db = a
Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = kernels::binary(BinaryOp::Mul, a, b, "mul");
  record(kMul, out, {&a, &b}, [a, b](const Tensor& g) -> Grads {
    return {a.requires_grad() ? sum_to(grad_times(g, b), a.shape()) : Tensor(),
            b.requires_grad() ? sum_to(grad_times(g, a), b.shape()) : Tensor()};
  });
  return out;
}

// d(a / b)/da = 1 / b, d(a / b)/db = -a / b^2 = -out / b
Tensor div(const Tensor& a, const Tensor& b) {
  Tensor out = kernels::binary(BinaryOp::Div, a, b, "div");
  record(kDiv, out, {&a, &b}, [a, b, y = out.detach()](const Tensor& g) -> Grads {
    Tensor ga = grad_over(g, b);
    return {a.requires_grad() ? sum_to(ga, a.shape()) : Tensor(),
            b.requires_grad() ? sum_to(neg(grad_times(ga, y)), b.shape()) : Tensor()};
  });
  return out;
}

// The gradient goes to whichever input was selected; on a tie, half to each.
// share_a = [a wins] + 0.5 [a == b], share_b = 1 - share_a.
static Tensor select_binary(const OpInfo& info, BinaryOp op, BinaryOp wins, const Tensor& a, const Tensor& b) {
  Tensor out = kernels::binary(op, a, b, info.name);
  record(info, out, {&a, &b}, [a, b, wins](const Tensor& g) -> Grads {
    Tensor share_a = kernels::binary(wins, a, b, "maximum") + mul(kernels::binary(BinaryOp::Eq, a, b, "maximum"), 0.5f);
    Tensor ga = g * share_a;
    return {sum_to(ga, a.shape()), sum_to(g - ga, b.shape())};
  });
  return out;
}

Tensor maximum(const Tensor& a, const Tensor& b) { return select_binary(kMaximum, BinaryOp::Maximum, BinaryOp::Gt, a, b); }
Tensor minimum(const Tensor& a, const Tensor& b) { return select_binary(kMinimum, BinaryOp::Minimum, BinaryOp::Lt, a, b); }

// d(x + s)/dx = 1
Tensor add(const Tensor& a, float s) {
  Tensor out = kernels::unary(UnaryOp::AddScalar, a, s, "add");
  record(kAddScalar, out, {&a}, [](const Tensor& g) -> Grads { return {g}; });
  return out;
}

// d(s x)/dx = s
Tensor mul(const Tensor& a, float s) {
  Tensor out = kernels::unary(UnaryOp::MulScalar, a, s, "mul");
  record(kMulScalar, out, {&a}, [s](const Tensor& g) -> Grads { return {mul(g, s)}; });
  return out;
}

// d(x^p)/dx = p x^(p-1)
Tensor pow(const Tensor& a, float p) {
  Tensor out = kernels::unary(UnaryOp::PowScalar, a, p, "pow");
  record(kPow, out, {&a}, [a, p, y = out.detach()](const Tensor& g) -> Grads {
    return {kernels::unary_backward(UnaryOp::PowScalar, a, y, g, p)};
  });
  return out;
}

// ---- one input ----------------------------------------------------------------

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

// ---- comparisons (no gradient) and selection ----------------------------------

namespace {
const OpInfo kWhere("where"), kMaskedFill("masked_fill");
}

Tensor eq(const Tensor& a, const Tensor& b) { return kernels::binary(BinaryOp::Eq, a, b, "eq"); }
Tensor ne(const Tensor& a, const Tensor& b) { return kernels::binary(BinaryOp::Ne, a, b, "ne"); }
Tensor lt(const Tensor& a, const Tensor& b) { return kernels::binary(BinaryOp::Lt, a, b, "lt"); }
Tensor le(const Tensor& a, const Tensor& b) { return kernels::binary(BinaryOp::Le, a, b, "le"); }
Tensor gt(const Tensor& a, const Tensor& b) { return kernels::binary(BinaryOp::Gt, a, b, "gt"); }
Tensor ge(const Tensor& a, const Tensor& b) { return kernels::binary(BinaryOp::Ge, a, b, "ge"); }

// out = mask ? a : b. The gradient goes where the value came from:
// da = mask ? g : 0, db = mask ? 0 : g, each summed back to its input's shape.
// A selection, not g x mask: the branch not taken gets exactly 0 whatever it holds,
// and the element-wise backwards upstream keep that 0 a 0 where their derivative is
// inf or NaN (gradient_times in core/elementwise_math.h), so where(x > 0, log(x), 0)
// has a finite gradient at x = 0.
Tensor where(const Tensor& mask, const Tensor& a, const Tensor& b) {
  Tensor out = kernels::where(mask, a, b);
  record(kWhere, out, {&mask, &a, &b}, [mask, sa = a.shape(), sb = b.shape()](const Tensor& g) -> Grads {
    Tensor zero = Tensor::zeros(Shape(), g.device());
    return {Tensor(), kernels::sum_to(kernels::where(mask, g, zero), sa),
            kernels::sum_to(kernels::where(mask, zero, g), sb)};
  });
  return out;
}

// out = mask ? value : x;  dx = mask ? 0 : g.
Tensor masked_fill(const Tensor& x, const Tensor& mask, float value) {
  check_defined(x, "masked_fill", "x");
  check_defined(mask, "masked_fill", "mask");
  TA_CHECK(broadcast_shapes(x.shape(), mask.shape(), "masked_fill") == x.shape(), "masked_fill: mask shape ",
           mask.shape(), " does not broadcast to x shape ", x.shape());
  Tensor out = kernels::where(mask, Tensor::scalar(value, x.device()), x);
  record(kMaskedFill, out, {&x, &mask}, [mask](const Tensor& g) -> Grads {
    return {kernels::where(mask, Tensor::zeros(Shape(), g.device()), g), Tensor()};
  });
  return out;
}

}  // namespace ta

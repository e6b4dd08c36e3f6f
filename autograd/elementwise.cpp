// Broadcasting binary ops and the scalar ops. Every backward ends in sum_to: an
// input that was broadcast receives the sum of the gradient over the copies it
// was broadcast into (the reverse of broadcasting).
#include "autograd/node.h"
#include "autograd/ops.h"
#include "core/kernels.h"

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

}  // namespace ta

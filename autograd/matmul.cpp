// Matrix products with transpose flags and broadcast batch dimensions.
#include "autograd/node.h"
#include "autograd/ops.h"
#include "core/epilogue_math.h"
#include "core/kernels/elementwise.h"
#include "core/kernels/matmul.h"
#include "core/kernels/movement.h"
#include "core/kernels/reduce.h"

namespace ta {

namespace {
const OpInfo kMatmul("matmul"), kLinear("linear");
// The GEMM's flag for each operand (core/backend.h), and its opposite.
Transpose flag_of_a(Transposed t) {
  return t == Transposed::A || t == Transposed::Both ? Transpose::Yes : Transpose::No;
}
Transpose flag_of_b(Transposed t) {
  return t == Transposed::B || t == Transposed::Both ? Transpose::Yes : Transpose::No;
}
Transpose flipped(Transpose t) { return t == Transpose::Yes ? Transpose::No : Transpose::Yes; }
}  // namespace

// C = op(A) op(B). With dC the upstream gradient:
//   d op(A) = dC op(B)^T      d op(B) = op(A)^T dC
// and when an operand is stored transposed its gradient is the transpose of that,
// which the flags give without copies:
//   A plain:      dA = dC op(B)^T           A transposed: dA = op(B) dC^T
//   B plain:      dB = op(A)^T dC           B transposed: dB = dC^T op(A)
// Batch dimensions that were broadcast are summed back (sum_to).
Tensor matmul(const Tensor& a, const Tensor& b, Transposed transposed) {
  const Transpose trans_a = flag_of_a(transposed), trans_b = flag_of_b(transposed);
  Tensor out = kernels::matmul(a, b, trans_a, trans_b);
  record(kMatmul, out, {&a, &b}, [a, b, trans_a, trans_b](const Tensor& g) -> Grads {
    Tensor da, db;
    if (a.requires_grad())
      da = trans_a == Transpose::Yes ? kernels::matmul(b, g, trans_b, Transpose::Yes)
                                     : kernels::matmul(g, b, Transpose::No, flipped(trans_b));
    if (b.requires_grad())
      db = trans_b == Transpose::Yes ? kernels::matmul(g, a, Transpose::Yes, trans_a)
                                     : kernels::matmul(a, g, flipped(trans_a), Transpose::No);
    return {da.defined() ? kernels::sum_to(da, a.shape()) : da, db.defined() ? kernels::sum_to(db, b.shape()) : db};
  });
  return out;
}

// y = act(x W^T + b) over the rows of x (x viewed as [rows, in], all its dimensions
// but the last flattened), in one GEMM whose epilogue adds the bias and applies the
// activation while each tile of the product is still in registers (kernels::linear).
// With pre = x W^T + b and g = dy as [rows, out]:
//   dpre = g * act'(pre)   (one element-wise pass; none for act = None)
//   dx = dpre W,  dW = dpre^T x,  db = the column sums of dpre.
// act'(pre) is read off what the forward kept: ReLU's slope [pre > 0] is [y > 0], so
// y will do; GELU's and SiLU's need pre itself, which the same epilogue writes next to
// y (only when a gradient is wanted).
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias, EpilogueActivation activation) {
  const bool slope_reads_pre = activation != EpilogueActivation::None && activation != EpilogueActivation::Relu;
  const kernels::PreActivation keep = slope_reads_pre && needs_grad({&x, &weight, &bias})
                                          ? kernels::PreActivation::Keep
                                          : kernels::PreActivation::Drop;
  kernels::LinearOutput fused = kernels::linear(x, weight, bias, activation, keep);
  Tensor out = fused.y;
  const Tensor slope_input = activation == EpilogueActivation::Relu ? out.detach() : fused.pre;
  record(kLinear, out, {&x, &weight, &bias}, [x, weight, bias, activation, slope_input](const Tensor& g) -> Grads {
    const int64_t rows = x.shape().outer(x.ndim() - 1), out_features = weight.size(0), in_features = weight.size(1);
    const Tensor dpre = activation == EpilogueActivation::None
                            ? g
                            : kernels::unary_backward(unary_op_of(activation), slope_input, slope_input, g, 0.0f);
    const Tensor d2 = kernels::reshape(dpre, Shape({rows, out_features}));
    Tensor dx, dw, db;
    if (x.requires_grad())
      dx = kernels::reshape(kernels::matmul(d2, weight, Transpose::No, Transpose::No), x.shape());
    if (weight.requires_grad())
      dw = kernels::matmul(d2, kernels::reshape(x, Shape({rows, in_features})), Transpose::Yes, Transpose::No);
    if (bias.defined() && bias.requires_grad()) db = kernels::sum_to(d2, bias.shape());
    return {dx, dw, db};
  });
  return out;
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  return linear(x, weight, bias, EpilogueActivation::None);
}

}  // namespace ta

// Matrix products with transpose flags and broadcast batch dimensions.
#include "autograd/node.h"
#include "autograd/ops.h"
#include "core/kernels.h"

namespace ta {

namespace {
const OpInfo kMatmul("matmul"), kLinear("linear");
Transpose flag(bool t) { return t ? Transpose::Yes : Transpose::No; }
}  // namespace

// C = op(A) op(B). With dC the upstream gradient:
//   d op(A) = dC op(B)^T      d op(B) = op(A)^T dC
// and when an operand is stored transposed its gradient is the transpose of that,
// which the flags give without copies:
//   A plain:      dA = dC op(B)^T           A transposed: dA = op(B) dC^T
//   B plain:      dB = op(A)^T dC           B transposed: dB = dC^T op(A)
// Batch dimensions that were broadcast are summed back (sum_to).
Tensor matmul(const Tensor& a, const Tensor& b, bool ta_, bool tb_) {
  Tensor out = kernels::matmul(a, b, flag(ta_), flag(tb_));
  record(kMatmul, out, {&a, &b}, [a, b, ta_, tb_](const Tensor& g) -> Grads {
    Tensor da, db;
    if (a.requires_grad())
      da = ta_ ? kernels::matmul(b, g, flag(tb_), Transpose::Yes) : kernels::matmul(g, b, Transpose::No, flag(!tb_));
    if (b.requires_grad())
      db = tb_ ? kernels::matmul(g, a, Transpose::Yes, flag(ta_)) : kernels::matmul(a, g, flag(!ta_), Transpose::No);
    return {da.defined() ? kernels::sum_to(da, a.shape()) : da, db.defined() ? kernels::sum_to(db, b.shape()) : db};
  });
  return out;
}

// y = x W^T + b over the rows of x (x viewed as [rows, in], all its dimensions but
// the last flattened). With g = dy as [rows, out]:
//   dx = g W,  dW = g^T x,  db = the column sums of g.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  Tensor out = kernels::linear(x, weight, bias);
  record(kLinear, out, {&x, &weight, &bias}, [x, weight, bias](const Tensor& g) -> Grads {
    const int64_t out_features = weight.size(0), in_features = weight.size(1);
    const int64_t rows = Shape(std::vector<int64_t>(x.shape().begin(), x.shape().end() - 1)).numel();
    const Tensor g2 = kernels::reshape(g, Shape({rows, out_features}));
    Tensor dx, dw, db;
    if (x.requires_grad())
      dx = kernels::reshape(kernels::matmul(g2, weight, Transpose::No, Transpose::No), x.shape());
    if (weight.requires_grad())
      dw = kernels::matmul(g2, kernels::reshape(x, Shape({rows, in_features})), Transpose::Yes, Transpose::No);
    if (bias.defined() && bias.requires_grad()) db = kernels::sum_to(g2, bias.shape());
    return {dx, dw, db};
  });
  return out;
}

}  // namespace ta

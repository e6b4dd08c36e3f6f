// Matrix products with transpose flags and broadcast batch dimensions.
#include "autograd/node.h"
#include "autograd/ops.h"
#include "core/kernels.h"

namespace ta {

namespace {
const OpInfo kMatmul("matmul");
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

}  // namespace ta

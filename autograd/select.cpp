// Comparisons (no gradient) and selection by a mask.
#include "autograd/node.h"
#include "autograd/ops.h"
#include "core/error.h"
#include "core/kernels.h"

namespace ta {

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

// core/kernels/reduce.cpp — kernels along an axis: reductions, softmax, cumulative sums, and sum_to
// (the reverse of broadcasting).
#include "core/kernels/reduce.h"

#include "core/error.h"
#include "core/kernels/common.h"
#include "core/kernels/movement.h"

namespace ta::kernels {

Tensor reduce(ReduceOp op, const Tensor& x, int axis, KeepDims keep) {
  const char* name = op == ReduceOp::Sum ? "sum" : op == ReduceOp::Max ? "max" : "logsumexp";
  check_defined(x, name, "x");
  axis = normalize_axis(axis, x.ndim(), name);
  TA_CHECK(op == ReduceOp::Sum || x.shape()[axis] > 0, name, ": cannot reduce an empty axis ", axis, " of shape ",
           x.shape());
  AxisView v(x.shape(), axis);
  Tensor y = Tensor::empty(x.shape().reduced(axis, keep), x.device());
  backend_of(x).reduce(op, x.data(), y.data(), v.outer, v.n, v.inner);
  return y;
}

// Groups the dimensions of x (aligned at the right with `shape`) into runs that are
// all summed or all kept, so each run of summed dimensions costs one pass.
Tensor sum_to(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  const Shape& xs = x.shape();
  TA_CHECK(broadcast_shapes(shape, xs, "sum_to") == xs, "sum_to: cannot sum ", xs, " down to ", shape);
  std::vector<int64_t> dims;
  std::vector<bool> summed;
  for (int d = 0; d < xs.ndim(); ++d) {
    int sd = shape.ndim() - xs.ndim() + d;
    bool s = (sd < 0 || shape[sd] == 1) && xs[d] != 1;
    if (xs[d] == 1) continue;  // size-1 dims change nothing
    if (!dims.empty() && summed.back() == s)
      dims.back() *= xs[d];
    else
      dims.push_back(xs[d]), summed.push_back(s);
  }
  Tensor y = reshape(x, Shape(dims));
  for (int d = static_cast<int>(dims.size()) - 1; d >= 0; --d)
    if (summed[d]) y = reduce(ReduceOp::Sum, y, d, KeepDims::Yes);
  return reshape(y, shape);
}

Tensor softmax(const Tensor& x, int axis, SoftmaxForm form) {
  const char* name = form == SoftmaxForm::LogSoftmax ? "log_softmax" : "softmax";
  check_defined(x, name, "x");
  axis = normalize_axis(axis, x.ndim(), name);
  AxisView v(x.shape(), axis);
  Tensor y = Tensor::empty(x.shape(), x.device());
  backend_of(x).softmax(x.data(), y.data(), v.outer, v.n, v.inner, form);
  return y;
}

Tensor softmax_backward(const Tensor& y, const Tensor& dy, int axis, SoftmaxForm form) {
  AxisView v(y.shape(), axis);
  Tensor dx = Tensor::empty(y.shape(), y.device());
  backend_of(y).softmax_backward(y.data(), dy.data(), dx.data(), v.outer, v.n, v.inner, form);
  return dx;
}

Tensor cumsum(const Tensor& x, int axis, ScanDirection direction) {
  check_defined(x, "cumsum", "x");
  axis = normalize_axis(axis, x.ndim(), "cumsum");
  AxisView v(x.shape(), axis);
  Tensor y = Tensor::empty(x.shape(), x.device());
  backend_of(x).cumsum(x.data(), y.data(), v.outer, v.n, v.inner, direction);
  return y;
}

}  // namespace ta::kernels

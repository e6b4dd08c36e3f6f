// core/kernels/index.cpp — indexing along an axis: index_select, gather and their scatter-add backwards.
#include "core/kernels/index.h"

#include <cmath>

#include "core/error.h"
#include "core/kernels/common.h"

namespace ta::kernels {

void check_indices(const Tensor& index, int64_t bound, const char* op) {
  std::vector<float> values = index.to_vector();
  for (size_t i = 0; i < values.size(); ++i) {
    float v = values[i];
    TA_CHECK(std::isfinite(v) && v == std::floor(v) && v >= 0 && v < static_cast<float>(bound), op, ": index ", v,
             " at position ", i, " is not a whole number in [0, ", bound, ")");
  }
}

Tensor index_select(const Tensor& x, int axis, const Tensor& index) {
  check_defined(x, "index_select", "x");
  check_defined(index, "index_select", "index");
  common_device({&x, &index}, "index_select");
  axis = normalize_axis(axis, x.ndim(), "index_select");
  TA_CHECK(index.ndim() == 1, "index_select: index must be 1-D, got shape ", index.shape());
  check_indices(index, x.shape()[axis], "index_select");
  Shape out_shape = x.shape();
  out_shape[axis] = index.numel();
  AxisView v(x.shape(), axis);
  Tensor y = Tensor::empty(out_shape, x.device());
  backend_of(x).index_select(x.data(), index.data(), y.data(), v.outer, v.n, index.numel(), v.inner);
  return y;
}

Tensor index_add(const Tensor& dy, int axis, const Tensor& index, const Shape& x_shape) {
  AxisView v(x_shape, axis);
  Tensor dx = Tensor::zeros(x_shape, dy.device());
  backend_of(dy).index_add(dy.data(), index.data(), dx.data(), v.outer, v.n, index.numel(), v.inner);
  return dx;
}

Tensor gather(const Tensor& x, int axis, const Tensor& index) {
  check_defined(x, "gather", "x");
  check_defined(index, "gather", "index");
  common_device({&x, &index}, "gather");
  axis = normalize_axis(axis, x.ndim(), "gather");
  const Shape &xs = x.shape(), &is = index.shape();
  bool ok = is.ndim() == xs.ndim();
  for (int d = 0; ok && d < xs.ndim(); ++d) ok = d == axis || is[d] == xs[d];
  TA_CHECK(ok, "gather: index shape ", is, " must match x shape ", xs, " except along axis ", axis);
  check_indices(index, xs[axis], "gather");
  AxisView v(xs, axis);
  Tensor y = Tensor::empty(is, x.device());
  backend_of(x).gather(x.data(), index.data(), y.data(), v.outer, v.n, is[axis], v.inner);
  return y;
}

Tensor scatter_add(const Tensor& dy, int axis, const Tensor& index, const Shape& x_shape) {
  AxisView v(x_shape, axis);
  Tensor dx = Tensor::zeros(x_shape, dy.device());
  backend_of(dy).scatter_add(dy.data(), index.data(), dx.data(), v.outer, v.n, index.shape()[axis], v.inner);
  return dx;
}

}  // namespace ta::kernels

// Reductions over chosen axes, softmax and cumulative sums.
#include <algorithm>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "core/error.h"
#include "core/kernels/elementwise.h"
#include "core/kernels/movement.h"
#include "core/kernels/reduce.h"

namespace ta {

namespace {

const OpInfo kSum("sum"), kMean("mean"), kMax("max"), kLogSumExp("logsumexp"), kSoftmax("softmax"),
    kLogSoftmax("log_softmax"), kCumsum("cumsum");

// The axes to reduce, normalized, sorted and checked for repeats (empty = all).
std::vector<int> reduction_axes(const Tensor& x, std::vector<int> axes, const char* op) {
  check_defined(x, op, "x");
  if (axes.empty())
    for (int d = 0; d < x.ndim(); ++d) axes.push_back(d);
  for (int& a : axes) a = normalize_axis(a, x.ndim(), op);
  std::sort(axes.begin(), axes.end());
  TA_CHECK(std::adjacent_find(axes.begin(), axes.end()) == axes.end(), op, ": an axis is listed twice");
  return axes;
}

// x's shape with every reduced axis set to 1.
Shape kept_shape(const Shape& s, const std::vector<int>& axes) {
  Shape k = s;
  for (int a : axes) k[a] = 1;
  return k;
}

Shape output_shape(const Shape& s, const std::vector<int>& axes, KeepDims keep) {
  if (keep == KeepDims::Yes) return kept_shape(s, axes);
  std::vector<int64_t> dims;
  for (int d = 0; d < s.ndim(); ++d)
    if (!std::binary_search(axes.begin(), axes.end(), d)) dims.push_back(s[d]);
  return Shape(dims);
}

// Applies a one-axis reduction axis by axis (max and logsumexp compose this way:
// max over (a, b) = max over a of max over b; likewise log-sum-exp).
Tensor reduce_axes(ReduceOp op, const Tensor& x, const std::vector<int>& axes) {
  if (op == ReduceOp::Sum) return kernels::sum_to(x, kept_shape(x.shape(), axes));  // one pass per run of axes
  Tensor y = x;
  for (int a : axes) y = kernels::reduce(op, y, a, KeepDims::Yes);
  return y;
}

}  // namespace

// y = sum over axes of x;  dx = g broadcast back over the reduced axes.
Tensor sum(const Tensor& x, std::vector<int> axes, KeepDims keep) {
  axes = reduction_axes(x, std::move(axes), "sum");
  Tensor y = kernels::reshape(reduce_axes(ReduceOp::Sum, x, axes), output_shape(x.shape(), axes, keep));
  record(kSum, y, {&x}, [xs = x.shape(), axes](const Tensor& g) -> Grads {
    return {kernels::broadcast_to(kernels::reshape(g, kept_shape(xs, axes)), xs)};
  });
  return y;
}

// y = sum / count;  dx = g / count broadcast back.
Tensor mean(const Tensor& x, std::vector<int> axes, KeepDims keep) {
  axes = reduction_axes(x, std::move(axes), "mean");
  int64_t count = 1;
  for (int a : axes) count *= x.shape()[a];
  TA_CHECK(count > 0, "mean: cannot average over an empty axis of shape ", x.shape());
  Tensor y = kernels::unary(UnaryOp::MulScalar, reduce_axes(ReduceOp::Sum, x, axes), 1.0f / count, "mean");
  y = kernels::reshape(y, output_shape(x.shape(), axes, keep));
  record(kMean, y, {&x}, [xs = x.shape(), axes, count](const Tensor& g) -> Grads {
    Tensor g_kept = kernels::reshape(g, kept_shape(xs, axes));
    return {kernels::broadcast_to(mul(g_kept, 1.0f / count), xs)};
  });
  return y;
}

// y = max over axes;  dx = g shared equally by the positions that attain the max.
Tensor max(const Tensor& x, std::vector<int> axes, KeepDims keep) {
  axes = reduction_axes(x, std::move(axes), "max");
  Tensor y_kept = reduce_axes(ReduceOp::Max, x, axes);
  Tensor y = kernels::reshape(y_kept, output_shape(x.shape(), axes, keep));
  record(kMax, y, {&x}, [x, axes, y_kept = y_kept.detach()](const Tensor& g) -> Grads {
    Tensor is_max = eq(x, y_kept);
    Tensor count = reduce_axes(ReduceOp::Sum, is_max, axes);
    return {is_max * (kernels::reshape(g, y_kept.shape()) / count)};
  });
  return y;
}

// y = log sum exp x over axes;  dx = g * exp(x - y) (the softmax over those axes).
Tensor logsumexp(const Tensor& x, std::vector<int> axes, KeepDims keep) {
  axes = reduction_axes(x, std::move(axes), "logsumexp");
  Tensor y_kept = reduce_axes(ReduceOp::LogSumExp, x, axes);
  Tensor y = kernels::reshape(y_kept, output_shape(x.shape(), axes, keep));
  record(kLogSumExp, y, {&x}, [x, y_kept = y_kept.detach()](const Tensor& g) -> Grads {
    return {exp(x - y_kept) * kernels::reshape(g, y_kept.shape())};
  });
  return y;
}

namespace {

// Softmax or log-softmax along `axis`: both backwards read only the output y.
Tensor softmax_along(const OpInfo& op, const Tensor& x, int axis, SoftmaxForm form) {
  Tensor y = kernels::softmax(x, axis, form);
  axis = normalize_axis(axis, x.ndim(), op.name);
  record(op, y, {&x}, [axis, form, y_saved = y.detach()](const Tensor& g) -> Grads {
    return {kernels::softmax_backward(y_saved, g, axis, form)};
  });
  return y;
}

}  // namespace

// y_i = exp(x_i) / sum_j exp(x_j);  dx_i = y_i (g_i - sum_j g_j y_j).
Tensor softmax(const Tensor& x, int axis) { return softmax_along(kSoftmax, x, axis, SoftmaxForm::Softmax); }

// y_i = x_i - logsumexp(x);  dx_i = g_i - exp(y_i) sum_j g_j.
Tensor log_softmax(const Tensor& x, int axis) { return softmax_along(kLogSoftmax, x, axis, SoftmaxForm::LogSoftmax); }

// y_i = sum_{j <= i} x_j;  dx_j = sum_{i >= j} g_i, a cumulative sum in reverse.
Tensor cumsum(const Tensor& x, int axis) {
  Tensor y = kernels::cumsum(x, axis, ScanDirection::Forward);
  axis = normalize_axis(axis, x.ndim(), "cumsum");
  record(kCumsum, y, {&x},
         [axis](const Tensor& g) -> Grads { return {kernels::cumsum(g, axis, ScanDirection::Reverse)}; });
  return y;
}

}  // namespace ta

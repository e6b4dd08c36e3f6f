// Ops that move data without computing: reshape, permute, broadcast, slices,
// concatenation. Their backwards move the gradient back the same way.
#include <numeric>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "core/error.h"
#include "core/kernels/elementwise.h"
#include "core/kernels/movement.h"
#include "core/kernels/reduce.h"

namespace ta {

namespace {
const OpInfo kReshape("reshape"), kPermute("permute"), kBroadcastTo("broadcast_to"), kNarrow("narrow"),
    kConcat("concat");
}

Tensor reshape(const Tensor& x, const Shape& shape) {
  Tensor y = kernels::reshape(x, shape);
  record(kReshape, y, {&x}, [xs = x.shape()](const Tensor& g) -> Grads { return {kernels::reshape(g, xs)}; });
  return y;
}

// One dimension may be -1: it takes whatever size makes the element counts agree.
Tensor reshape(const Tensor& x, const std::vector<int64_t>& dims) {
  check_defined(x, "reshape", "x");
  std::vector<int64_t> target = dims;
  int infer = -1;
  int64_t known = 1;
  for (size_t d = 0; d < dims.size(); ++d) {
    if (dims[d] == -1) {
      TA_CHECK(infer < 0, "reshape: only one dimension may be -1");
      infer = static_cast<int>(d);
    } else {
      TA_CHECK(dims[d] >= 0, "reshape: dimension ", d, " is ", dims[d], " (sizes must be >= 0, or -1 to infer)");
      known *= dims[d];
    }
  }
  if (infer >= 0) {
    TA_CHECK(known > 0 && x.numel() % known == 0, "reshape: cannot view ", x.shape(), " (", x.numel(),
             " elements) with ", known, " elements per -1 slot");
    target[infer] = x.numel() / known;
  }
  return reshape(x, Shape(target));
}

Tensor reshape(const Tensor& x, std::initializer_list<int64_t> dims) {
  return reshape(x, std::vector<int64_t>(dims));
}

// y = x with axes reordered;  dx = g permuted by the inverse order.
Tensor permute(const Tensor& x, const std::vector<int>& order) {
  Tensor y = kernels::permute(x, order);
  record(kPermute, y, {&x}, [order, nd = x.ndim()](const Tensor& g) -> Grads {
    std::vector<int> inverse(nd);
    for (int d = 0; d < nd; ++d) inverse[normalize_axis(order[d], nd, "permute")] = d;
    return {kernels::permute(g, inverse)};
  });
  return y;
}

Tensor transpose(const Tensor& x, int axis0, int axis1) {
  check_defined(x, "transpose", "x");
  std::vector<int> order(x.ndim());
  std::iota(order.begin(), order.end(), 0);
  std::swap(order[normalize_axis(axis0, x.ndim(), "transpose")], order[normalize_axis(axis1, x.ndim(), "transpose")]);
  return permute(x, order);
}

Tensor unsqueeze(const Tensor& x, int axis) {
  check_defined(x, "unsqueeze", "x");
  TA_CHECK(x.ndim() < kMaxDims, "unsqueeze: ", x.shape(), " already has the maximum of ", kMaxDims, " dimensions");
  return reshape(x, x.shape().inserted(normalize_axis(axis, x.ndim() + 1, "unsqueeze"), 1));
}

Tensor squeeze(const Tensor& x, int axis) {
  check_defined(x, "squeeze", "x");
  axis = normalize_axis(axis, x.ndim(), "squeeze");
  TA_CHECK(x.shape()[axis] == 1, "squeeze: axis ", axis, " of shape ", x.shape(), " has size ", x.shape()[axis],
           ", not 1");
  return reshape(x, x.shape().reduced(axis, KeepDims::No));
}

// dx = g summed over the broadcast dimensions.
Tensor broadcast_to(const Tensor& x, const Shape& shape) {
  Tensor y = kernels::broadcast_to(x, shape);
  if (y.impl() == x.impl()) y = kernels::reshape(x, shape);  // a fresh handle to hang the node on
  record(kBroadcastTo, y, {&x}, [xs = x.shape()](const Tensor& g) -> Grads { return {kernels::sum_to(g, xs)}; });
  return y;
}

// dx = g at [start, start + length) along axis, zero elsewhere: returned as a slice
// (Grad::slice), which the engine adds into x's gradient sum without the zeros.
Tensor narrow(const Tensor& x, int axis, int64_t start, int64_t length) {
  Tensor y = kernels::narrow(x, axis, start, length);
  record(kNarrow, y, {&x}, [xs = x.shape(), axis, start](const Tensor& g) -> Grads {
    return {Grad::slice(g, xs, axis, start)};
  });
  return y;
}

Tensor slice(const Tensor& x, int axis, int64_t start, int64_t end) {
  check_defined(x, "slice", "x");
  const int64_t n = x.shape()[normalize_axis(axis, x.ndim(), "slice")];
  if (start < 0) start += n;
  if (end < 0) end += n;
  start = std::clamp<int64_t>(start, 0, n);
  end = std::clamp<int64_t>(end, start, n);
  return narrow(x, axis, start, end - start);
}

// dx_i = the slice of g where x_i was placed.
Tensor concat(const std::vector<Tensor>& xs, int axis) {
  Tensor y = kernels::concat(xs, axis);
  axis = normalize_axis(axis, xs[0].ndim(), "concat");
  std::vector<int64_t> sizes;
  for (const Tensor& x : xs) sizes.push_back(x.shape()[axis]);
  record(kConcat, y, xs, [sizes, axis](const Tensor& g) -> Grads {
    Grads grads;
    int64_t at = 0;
    for (int64_t s : sizes) {
      grads.push_back(kernels::narrow(g, axis, at, s));
      at += s;
    }
    return grads;
  });
  return y;
}

std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int axis) {
  check_defined(x, "split", "x");
  axis = normalize_axis(axis, x.ndim(), "split");
  int64_t total = 0;
  for (int64_t s : sizes) {
    TA_CHECK(s >= 0, "split: sizes must be non-negative, got ", s);
    total += s;
  }
  TA_CHECK(total == x.shape()[axis], "split: sizes add up to ", total, " but axis ", axis, " of shape ", x.shape(),
           " has size ", x.shape()[axis]);
  std::vector<Tensor> parts;
  int64_t at = 0;
  for (int64_t s : sizes) {
    parts.push_back(narrow(x, axis, at, s));
    at += s;
  }
  return parts;
}

Tensor stack(const std::vector<Tensor>& xs, int axis) {
  TA_CHECK(!xs.empty(), "stack: needs at least one tensor");
  check_defined(xs[0], "stack", "xs[0]");
  axis = normalize_axis(axis, xs[0].ndim() + 1, "stack");
  std::vector<Tensor> expanded;
  for (const Tensor& x : xs) {
    check_defined(x, "stack", "xs[i]");
    TA_CHECK(x.shape() == xs[0].shape(), "stack: tensor shapes differ: ", x.shape(), " vs ", xs[0].shape());
    expanded.push_back(unsqueeze(x, axis));
  }
  return concat(expanded, axis);
}

}  // namespace ta

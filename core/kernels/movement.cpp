// core/kernels/movement.cpp — kernels that move data: views, permutations, slices, concatenation,
// and writes into a tensor in place (assign, add_into).
#include "core/kernels/movement.h"

#include "core/error.h"
#include "core/kernels/common.h"

namespace ta::kernels {

Tensor reshape(const Tensor& x, const Shape& shape) {
  check_defined(x, "reshape", "x");
  TA_CHECK(shape.numel() == x.numel(), "reshape: cannot view ", x.shape(), " (", x.numel(), " elements) as ", shape,
           " (", shape.numel(), " elements)");
  auto impl = std::make_shared<TensorImpl>();
  impl->shape = shape;
  impl->storage = x.impl()->storage;
  impl->offset = x.impl()->offset;
  return Tensor(std::move(impl));
}

Tensor permute(const Tensor& x, const std::vector<int>& order) {
  check_defined(x, "permute", "x");
  const int nd = x.ndim();
  TA_CHECK(static_cast<int>(order.size()) == nd, "permute: got an order of ", order.size(),
           " axes for a tensor of shape ", x.shape());
  std::vector<int64_t> out_dims(nd);
  std::vector<bool> seen(nd, false);
  int perm[kMaxDims];
  for (int d = 0; d < nd; ++d) {
    int a = normalize_axis(order[d], nd, "permute");
    TA_CHECK(!seen[a], "permute: axis ", a, " appears twice in the order");
    seen[a] = true;
    perm[d] = a;
    out_dims[d] = x.shape()[a];
  }
  Tensor y = Tensor::empty(Shape(out_dims), x.device());
  backend_of(x).permute(x.data(), y.data(), x.shape(), perm);
  return y;
}

Tensor narrow(const Tensor& x, int axis, int64_t start, int64_t length) {
  check_defined(x, "narrow", "x");
  axis = normalize_axis(axis, x.ndim(), "narrow");
  const Shape& s = x.shape();
  TA_CHECK(start >= 0 && length >= 0 && start <= s[axis] && length <= s[axis] - start, "narrow: ", length,
           " elements from ", start, " are outside axis ", axis, " of shape ", s, " (size ", s[axis], ")");
  Shape out_shape = s;
  out_shape[axis] = length;
  AxisView v(s, axis);
  if (v.outer == 1) {  // a contiguous block of the storage: a free view
    auto impl = std::make_shared<TensorImpl>();
    impl->shape = out_shape;
    impl->storage = x.impl()->storage;
    impl->offset = x.impl()->offset + start * v.inner;
    return Tensor(std::move(impl));
  }
  Tensor y = Tensor::empty(out_shape, x.device());
  backend_of(x).copy_rows(x.data() + start * v.inner, v.n * v.inner, y.data(), length * v.inner, v.outer,
                          length * v.inner);
  return y;
}

Tensor concat(const std::vector<Tensor>& xs, int axis) {
  TA_CHECK(!xs.empty(), "concat: needs at least one tensor");
  for (const Tensor& x : xs) check_defined(x, "concat", "xs[i]");
  const Shape& first = xs[0].shape();
  axis = normalize_axis(axis, first.ndim(), "concat");
  Shape out_shape = first;
  out_shape[axis] = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const Shape& s = xs[i].shape();
    TA_CHECK(xs[i].device() == xs[0].device(), "concat: tensor ", i, " is on ", xs[i].device(), ", tensor 0 on ",
             xs[0].device());
    bool same = s.ndim() == first.ndim();
    for (int d = 0; same && d < s.ndim(); ++d) same = d == axis || s[d] == first[d];
    TA_CHECK(same, "concat: tensor ", i, " has shape ", s, ", which does not match ", first,
             " outside axis ", axis);
    TA_CHECK(!__builtin_add_overflow(out_shape[axis], s[axis], &out_shape[axis]), "concat: the sizes along axis ",
             axis, " add up to more than int64 counts");
  }
  Tensor y = Tensor::empty(out_shape, xs[0].device());
  AxisView v(out_shape, axis);
  int64_t at = 0;
  for (const Tensor& x : xs) {
    int64_t len = x.shape()[axis];
    backend_of(x).copy_rows(x.data(), len * v.inner, y.data() + at * v.inner, v.n * v.inner, v.outer, len * v.inner);
    at += len;
  }
  return y;
}

void assign(const Tensor& dst, const Tensor& src) {
  check_defined(dst, "assign", "dst");
  check_defined(src, "assign", "src");
  common_device({&dst, &src}, "assign");
  TA_CHECK(dst.shape() == src.shape(), "assign: source shape ", src.shape(), " does not match destination shape ",
           dst.shape());
  backend_of(dst).copy(src.data(), dst.data(), dst.numel());
}

void add_into(const Tensor& dst, const Tensor& src, const char* op) {
  check_defined(dst, op, "dst");
  check_defined(src, op, "src");
  common_device({&dst, &src}, op);
  TA_CHECK(dst.shape() == src.shape(), op, ": cannot add a tensor of shape ", src.shape(), " into one of shape ",
           dst.shape());
  backend_of(dst).accumulate_rows(src.data(), 0, dst.data(), 0, 1, dst.numel());
}

// Viewed as [outer, n, inner] around `axis`, the slice is `outer` rows of len * inner
// values, n * inner apart in dst and len * inner apart in src.
void add_into_slice(const Tensor& dst, const Tensor& src, int axis, int64_t start, const char* op) {
  check_defined(dst, op, "dst");
  check_defined(src, op, "src");
  common_device({&dst, &src}, op);
  axis = normalize_axis(axis, dst.ndim(), op);
  const Shape& s = dst.shape();
  bool fits = src.ndim() == dst.ndim();
  for (int d = 0; fits && d < s.ndim(); ++d) fits = d == axis || src.shape()[d] == s[d];
  const int64_t len = fits ? src.shape()[axis] : 0;
  TA_CHECK(fits && start >= 0 && start + len <= s[axis], op, ": cannot add a slice of shape ", src.shape(),
           " at offset ", start, " along axis ", axis, " of a tensor of shape ", s);
  AxisView v(s, axis);
  backend_of(dst).accumulate_rows(src.data(), len * v.inner, dst.data() + start * v.inner, v.n * v.inner,
                                  v.outer, len * v.inner);
}

}  // namespace ta::kernels

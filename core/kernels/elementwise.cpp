// core/kernels/elementwise.cpp — element-wise kernels on tensors: unary ops and their derivatives, broadcasting binary
// ops, where, broadcast_to.
#include "core/kernels/elementwise.h"

#include "core/error.h"
#include "core/kernels/common.h"

namespace ta::kernels {

Tensor unary(UnaryOp op, const Tensor& x, float param, const char* name) {
  check_defined(x, name, "x");
  Tensor y = Tensor::empty(x.shape(), x.device());
  backend_of(x).unary(op, x.data(), y.data(), x.numel(), param);
  return y;
}

Tensor unary_backward(UnaryOp op, const Tensor& x, const Tensor& y, const Tensor& dy, float param) {
  Tensor dx = Tensor::empty(x.shape(), x.device());
  backend_of(x).unary_backward(op, x.data(), y.data(), dy.data(), dx.data(), x.numel(), param);
  return dx;
}

Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b, const char* name) {
  check_defined(a, name, "a");
  check_defined(b, name, "b");
  Device d = common_device({&a, &b}, name);
  Shape out_shape = broadcast_shapes(a.shape(), b.shape(), name);
  Tensor out = Tensor::empty(out_shape, d);
  Shape in[2] = {a.shape(), b.shape()};
  backend(d).binary(op, a.data(), b.data(), out.data(), make_broadcast_plan(out_shape, in, 2));
  return out;
}

Tensor where(const Tensor& mask, const Tensor& a, const Tensor& b) {
  check_defined(mask, "where", "mask");
  check_defined(a, "where", "a");
  check_defined(b, "where", "b");
  Device d = common_device({&mask, &a, &b}, "where");
  Shape out_shape = broadcast_shapes(broadcast_shapes(mask.shape(), a.shape(), "where"), b.shape(), "where");
  Tensor out = Tensor::empty(out_shape, d);
  Shape in[3] = {mask.shape(), a.shape(), b.shape()};
  backend(d).where(mask.data(), a.data(), b.data(), out.data(), make_broadcast_plan(out_shape, in, 3));
  return out;
}

Tensor broadcast_to(const Tensor& x, const Shape& shape) {
  check_defined(x, "broadcast_to", "x");
  TA_CHECK(broadcast_shapes(x.shape(), shape, "broadcast_to") == shape, "broadcast_to: cannot broadcast ", x.shape(),
           " to ", shape);
  if (x.shape() == shape) return x;
  Tensor out = Tensor::empty(shape, x.device());
  Shape in[1] = {x.shape()};
  backend_of(x).broadcast_to(x.data(), out.data(), make_broadcast_plan(shape, in, 1));
  return out;
}

}  // namespace ta::kernels

// core/kernels/optim.cpp — optimizer updates in place, and the sum of squares for gradient clipping.
#include "core/kernels/optim.h"

#include <cmath>

#include "core/error.h"
#include "core/kernels/common.h"

namespace ta::kernels {

namespace {

void check_same_shape(const Tensor& a, const Tensor& b, const char* op, const char* what) {
  check_defined(b, op, what);
  common_device({&a, &b}, op);
  TA_CHECK(a.shape() == b.shape(), op, ": ", what, " has shape ", b.shape(), ", the parameter ", a.shape());
}

}  // namespace

void sgd_update(const Tensor& p, const Tensor& g, const Tensor& buf, float lr, float momentum, float weight_decay,
                SgdMomentum kind) {
  check_defined(p, "sgd_update", "p");
  check_same_shape(p, g, "sgd_update", "gradient");
  if (momentum != 0.0f) check_same_shape(p, buf, "sgd_update", "momentum buffer");
  backend_of(p).sgd_update(p.data(), g.data(), momentum != 0.0f ? buf.data() : nullptr, p.numel(), lr, momentum,
                           weight_decay, kind);
}

void adam_update(const Tensor& p, const Tensor& g, const Tensor& m, const Tensor& v, float lr, float beta1,
                 float beta2, float eps, float weight_decay, WeightDecay decay, int64_t step) {
  check_defined(p, "adam_update", "p");
  check_same_shape(p, g, "adam_update", "gradient");
  check_same_shape(p, m, "adam_update", "first moment");
  check_same_shape(p, v, "adam_update", "second moment");
  TA_CHECK(step >= 1, "adam_update: step counts from 1, got ", step);
  const float c1 = static_cast<float>(1.0 - std::pow(static_cast<double>(beta1), static_cast<double>(step)));
  const float c2 = static_cast<float>(1.0 - std::pow(static_cast<double>(beta2), static_cast<double>(step)));
  backend_of(p).adam_update(p.data(), g.data(), m.data(), v.data(), p.numel(), lr, beta1, beta2, eps, weight_decay,
                            decay, c1, c2);
}

double sum_of_squares(const Tensor& x) {
  check_defined(x, "sum_of_squares", "x");
  return backend_of(x).sum_of_squares(x.data(), x.numel());
}

}  // namespace ta::kernels

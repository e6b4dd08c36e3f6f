// core/kernels/norm.cpp — layer norm and RMS norm over the last axis, forward and backward.
#include "core/kernels/norm.h"

#include <cmath>

#include "core/error.h"
#include "core/kernels/common.h"

namespace ta::kernels {

NormResult layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps, LayerNormKind kind) {
  const char* name = kind == LayerNormKind::LayerNorm ? "layer_norm" : "rms_norm";
  check_defined(x, name, "x");
  TA_CHECK(x.ndim() >= 1 && x.shape()[x.ndim() - 1] > 0, name, ": x needs a non-empty last axis, got shape ",
           x.shape());
  TA_CHECK(eps >= 0.0f && std::isfinite(eps), name, ": eps must be finite and >= 0, got ", eps);
  const int64_t dim = x.shape()[x.ndim() - 1], rows = x.numel() / dim;
  for (const Tensor* p : {&gamma, &beta})
    if (p->defined()) {
      common_device({&x, p}, name);
      TA_CHECK(p->shape() == Shape{dim}, name, ": gain and bias must have shape [", dim, "] (the last axis of x ",
               x.shape(), "), got ", p->shape());
    }
  NormResult r{Tensor::empty(x.shape(), x.device()), Tensor::empty(Shape{rows}, x.device()),
               Tensor::empty(Shape{rows}, x.device())};
  backend_of(x).layer_norm(x.data(), gamma.defined() ? gamma.data() : nullptr, beta.defined() ? beta.data() : nullptr,
                           r.y.data(), r.mean.data(), r.rstd.data(), rows, dim, eps, kind);
  return r;
}

std::vector<Tensor> layer_norm_backward(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& mean,
                                        const Tensor& rstd, const Tensor& dy, LayerNormKind kind) {
  const int64_t dim = x.shape()[x.ndim() - 1], rows = x.numel() / dim;
  Tensor dx = Tensor::empty(x.shape(), x.device());
  Tensor dgamma = gamma.defined() ? Tensor::empty(gamma.shape(), x.device()) : Tensor();
  Tensor dbeta = beta.defined() ? Tensor::empty(beta.shape(), x.device()) : Tensor();
  backend_of(x).layer_norm_backward(x.data(), gamma.defined() ? gamma.data() : nullptr, mean.data(), rstd.data(),
                                    dy.data(), dx.data(), dgamma.defined() ? dgamma.data() : nullptr,
                                    dbeta.defined() ? dbeta.data() : nullptr, rows, dim, kind);
  return {dx, dgamma, dbeta};
}

}  // namespace ta::kernels

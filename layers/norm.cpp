#include "layers/norm.h"

#include <cmath>

#include "autograd/ops.h"
#include "core/error.h"

namespace ta {

LayerNorm::LayerNorm(int64_t dim, float eps_, Affine affine) : eps(eps_) {
  TA_CHECK(dim > 0, "LayerNorm: dim must be positive, got ", dim);
  if (affine == Affine::Yes) {
    gamma = register_parameter("weight", Tensor::ones(Shape{dim}));
    beta = register_parameter("bias", Tensor::zeros(Shape{dim}));
  }
}

Tensor LayerNorm::forward(const Tensor& x) const { return layer_norm(x, gamma, beta, eps); }

RMSNorm::RMSNorm(int64_t dim, float eps_) : eps(eps_) {
  TA_CHECK(dim > 0, "RMSNorm: dim must be positive, got ", dim);
  gamma = register_parameter("weight", Tensor::ones(Shape{dim}));
}

Tensor RMSNorm::forward(const Tensor& x) const { return rms_norm(x, gamma, eps); }

ScaleNorm::ScaleNorm(int64_t dim, float eps_) : eps(eps_) {
  TA_CHECK(dim > 0, "ScaleNorm: dim must be positive, got ", dim);
  g = register_parameter("g", Tensor::full(Shape{1}, std::sqrt(static_cast<float>(dim))));
}

Tensor ScaleNorm::forward(const Tensor& x) const {
  // 1 / max(||x||, eps) as rsqrt(max(||x||^2, eps^2)): the same value, and a finite
  // gradient for an all-zero row (sqrt's derivative at 0 is infinite).
  Tensor inv_norm = rsqrt(maximum(sum(x * x, {-1}, KeepDims::Yes), Tensor::scalar(eps * eps)));
  return x * (g * inv_norm);
}

}  // namespace ta

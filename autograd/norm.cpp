// Fused normalization ops: LayerNorm and RMSNorm over the last axis, with a
// hand-written backward (formulas in core/backend_ops.h).
#include "autograd/node.h"
#include "autograd/ops.h"
#include "core/kernels/norm.h"

namespace ta {

namespace {
const OpInfo kLayerNorm("layer_norm"), kRmsNorm("rms_norm");

Tensor norm_op(const OpInfo& info, const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps,
               LayerNormKind kind) {
  kernels::NormResult r = kernels::layer_norm(x, gamma, beta, eps, kind);
  record(info, r.y, {&x, &gamma, &beta},
         [x, gamma, beta, mean = r.mean, rstd = r.rstd, kind](const Tensor& g) -> Grads {
           return whole_grads(kernels::layer_norm_backward(x, gamma, beta, mean, rstd, g, kind));
         });
  return r.y;
}
}  // namespace

// y = (x - mean(x)) / sqrt(var(x) + eps) * gamma + beta
Tensor layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps) {
  return norm_op(kLayerNorm, x, gamma, beta, eps, LayerNormKind::LayerNorm);
}

// y = x / sqrt(mean(x^2) + eps) * gamma
Tensor rms_norm(const Tensor& x, const Tensor& gamma, float eps) {
  return norm_op(kRmsNorm, x, gamma, Tensor(), eps, LayerNormKind::RmsNorm);
}

}  // namespace ta

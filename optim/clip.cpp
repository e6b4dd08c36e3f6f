// optim/clip.cpp — global-norm gradient clipping.
#include "optim/clip.h"

#include <cmath>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "core/error.h"
#include "core/kernels.h"

namespace ta {

float clip_grad_norm(const std::vector<Tensor>& params, float max_norm, NonFiniteNorm on_non_finite) {
  TA_CHECK(std::isfinite(max_norm) && max_norm > 0.0f, "clip_grad_norm: max_norm must be finite and > 0, got ",
           max_norm);
  double squares = 0.0;
  for (const Tensor& p : params) {
    check_defined(p, "clip_grad_norm", "params");
    if (p.grad().defined()) squares += kernels::sum_of_squares(p.grad());
  }
  const float norm = static_cast<float>(std::sqrt(squares));
  if (!std::isfinite(norm)) {
    TA_CHECK(on_non_finite == NonFiniteNorm::Return, "clip_grad_norm: the global gradient norm is ", norm,
             " (a gradient holds NaN or infinity, or overflowed): the step would ruin the parameters");
    return norm;
  }
  const float scale = max_norm / (norm + 1e-6f);
  if (scale < 1.0f) {
    NoGradGuard no_grad;
    for (Tensor p : params)  // a handle: set_grad changes the shared parameter
      if (p.grad().defined()) p.set_grad(p.grad() * scale);
  }
  return norm;
}

}  // namespace ta

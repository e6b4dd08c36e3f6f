#include "layers/dropout.h"

#include "autograd/ops.h"
#include "core/error.h"

namespace ta {

Dropout::Dropout(float p_, Generator& gen) : p(p_), gen_(&gen) {
  TA_CHECK(p >= 0.0f && p < 1.0f, "Dropout: p must be in [0, 1), got ", p);
}

Tensor Dropout::forward(const Tensor& x) const {
  if (!training() || p == 0.0f) return x;
  Tensor keep = ge(Tensor::uniform(x.shape(), 0.0f, 1.0f, *gen_, x.device()), Tensor::scalar(p, x.device()));
  return x * mul(keep, 1.0f / (1.0f - p));
}

}  // namespace ta

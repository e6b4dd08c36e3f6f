// core/kernels/loss.cpp — the fused cross-entropy loss and its gradient.
#include "core/kernels/loss.h"

#include <cmath>

#include "core/error.h"
#include "core/kernels/common.h"

namespace ta::kernels {

std::pair<Tensor, Tensor> cross_entropy(const Tensor& logits, const Tensor& targets, int64_t ignore_index) {
  const int64_t rows = logits.shape().outer(logits.ndim() - 1), classes = logits.shape()[logits.ndim() - 1];
  std::vector<float> t = targets.to_vector();
  for (size_t r = 0; r < t.size(); ++r) {
    bool ok = std::isfinite(t[r]) && t[r] == std::floor(t[r]) &&
              (static_cast<int64_t>(t[r]) == ignore_index || (t[r] >= 0 && t[r] < static_cast<float>(classes)));
    TA_CHECK(ok, "cross_entropy: target ", t[r], " at row ", r, " is not a class id in [0, ", classes,
             ") nor the ignore index ", ignore_index);
  }
  Tensor loss = Tensor::empty(Shape{rows}, logits.device());
  Tensor lse = Tensor::empty(Shape{rows}, logits.device());
  backend_of(logits).cross_entropy(logits.data(), targets.data(), loss.data(), lse.data(), rows, classes,
                                   ignore_index);
  return {loss, lse};
}

Tensor cross_entropy_backward(const Tensor& logits, const Tensor& targets, const Tensor& lse, const Tensor& scale,
                              int64_t ignore_index) {
  const int64_t rows = lse.numel(), classes = logits.shape()[logits.ndim() - 1];
  Tensor dlogits = Tensor::empty(logits.shape(), logits.device());
  backend_of(logits).cross_entropy_backward(logits.data(), targets.data(), lse.data(), scale.data(), dlogits.data(),
                                            rows, classes, ignore_index);
  return dlogits;
}

}  // namespace ta::kernels

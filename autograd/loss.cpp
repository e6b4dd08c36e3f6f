// The fused cross-entropy loss.
#include "autograd/node.h"
#include "autograd/ops.h"
#include "core/error.h"
#include "core/kernels/common.h"
#include "core/kernels/elementwise.h"
#include "core/kernels/loss.h"
#include "core/kernels/reduce.h"

namespace ta {

namespace {
const OpInfo kCrossEntropy("cross_entropy");
}

// L = (1/R) sum_r (lse_r - z_{r, t_r}) over the R rows whose target is not ignored,
// lse_r = log sum_c exp z_rc. dL/dz_rc = (softmax(z_r)_c - [c == t_r]) / R, from the
// saved lse so the softmax is never stored.
Tensor cross_entropy(const Tensor& logits, const Tensor& targets, int64_t ignore_index) {
  check_defined(logits, "cross_entropy", "logits");
  check_defined(targets, "cross_entropy", "targets");
  kernels::common_device({&logits, &targets}, "cross_entropy");
  TA_CHECK(logits.ndim() >= 1, "cross_entropy: logits need a class dimension, got shape ", logits.shape());
  Shape rows_shape = logits.shape().reduced(logits.ndim() - 1, KeepDims::No);
  TA_CHECK(targets.shape() == rows_shape, "cross_entropy: targets shape ", targets.shape(),
           " must be logits shape ", logits.shape(), " without its last (class) dimension, i.e. ", rows_shape);
  auto [row_loss, lse] = kernels::cross_entropy(logits, targets, ignore_index);

  // count = number of counted rows (at least 1, so an all-ignored batch gives 0).
  Tensor counted = kernels::binary(BinaryOp::Ne, targets, Tensor::scalar(static_cast<float>(ignore_index), targets.device()),
                                   "cross_entropy");
  Tensor count = kernels::binary(BinaryOp::Maximum, kernels::sum_to(counted, Shape()), Tensor::scalar(1.0f, targets.device()),
                                 "cross_entropy");
  Tensor loss = kernels::binary(BinaryOp::Div, kernels::sum_to(row_loss, Shape()), count, "cross_entropy");
  record(kCrossEntropy, loss, {&logits, &targets},
         [logits, targets, lse = lse, count, ignore_index](const Tensor& g) -> Grads {
           Tensor scale = kernels::binary(BinaryOp::Div, g, count, "cross_entropy");
           return {kernels::cross_entropy_backward(logits, targets, lse, scale, ignore_index), Tensor()};
         });
  return loss;
}

}  // namespace ta

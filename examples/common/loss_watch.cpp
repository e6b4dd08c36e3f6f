#include "examples/common/loss_watch.h"

#include <cmath>

#include "core/error.h"
#include "examples/common/flags.h"
#include "examples/common/run_files.h"

namespace ta::examples {

LossWatch::Verdict LossWatch::observe(int64_t step, double loss, double grad_norm) {
  last_step_ = step, last_loss_ = loss, last_grad_norm_ = grad_norm;
  // A norm of NaN with a finite loss means "not computed"; infinite is not finite.
  non_finite_ = !std::isfinite(loss) || std::isinf(grad_norm);
  if (non_finite_) return Verdict::Diverged;
  if (first_loss_ < 0) first_loss_ = loss;
  if (loss <= kFactor * first_loss_) {
    steps_above_ = 0;
    return Verdict::Healthy;
  }
  if (steps_above_++ == 0) first_step_above_ = step;
  return steps_above_ >= kPatience ? Verdict::Diverged : Verdict::AboveLimit;
}

LossWatch::Verdict LossWatch::at_end() const {
  return non_finite_ || above_limit() ? Verdict::Diverged : Verdict::Healthy;
}

std::string LossWatch::diagnosis() const {
  const std::string advice = "the learning rate is probably too high: try a lower --lr (a tenth, say)";
  if (non_finite_)
    return cat("the loss at step ", last_step_, " is ", fmt(last_loss_),
               std::isinf(last_grad_norm_) ? cat(" and the gradient norm ", fmt(last_grad_norm_)) : "", "; ", advice);
  return cat("the loss has been above ", kFactor, " x the starting loss ", fmt(first_loss_), " = ",
             fmt(kFactor * first_loss_), " since step ", first_step_above_, " (", steps_above_, steps_above_ == 1 ? " step" : " steps", "; at step ",
             last_step_, ": ", fmt(last_loss_), "); ", advice);
}

void LossWatch::store(Metadata& meta) const {
  if (first_loss_ >= 0) meta["watch.first_loss"] = cat(first_loss_);
}

void LossWatch::restore(const Metadata& meta) {
  const auto it = meta.find("watch.first_loss");
  double v = 0;
  if (it != meta.end() && parse_finite_number(it->second, v) && v >= 0) first_loss_ = v;
}

}  // namespace ta::examples

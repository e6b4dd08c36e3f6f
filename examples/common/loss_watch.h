// examples/common/loss_watch.h — when a training run has blown up.
//
// The rule, step by step (loss in nats, as the run computes it):
//   - a loss or a gradient norm that is NaN or infinite: diverged at once;
//   - the limit is kFactor times the run's starting loss, the loss of its first
//     step (on the initial weights, stored in checkpoints so a resumed run keeps
//     it); a loss above the limit for kPatience steps in a row, or at the last step
//     of the run, is diverged. For a language model the starting loss is about
//     ln(vocabulary), so the limit is a model that does far worse than a uniform
//     guess, which no healthy run does for long.
// While the loss is above the limit, checkpoints are held back (the training loop
// asks above_limit()), so the last checkpoint is one from before the blow-up.
#pragma once

#include <cstdint>
#include <string>

#include "layers/safetensors.h"

namespace ta::examples {

class LossWatch {
 public:
  static constexpr double kFactor = 2.0;
  static constexpr int64_t kPatience = 20;

  enum class Verdict { Healthy, AboveLimit, Diverged };

  // One step's loss and gradient norm (NaN for the norm when it was not computed
  // because clipping is off: then only the loss is judged).
  Verdict observe(int64_t step, double loss, double grad_norm);
  // At the run's last step: above the limit is diverged too.
  Verdict at_end() const;
  bool above_limit() const { return steps_above_ > 0; }
  // Why the run is judged diverged (or above the limit), with the advice.
  std::string diagnosis() const;

  // The starting loss, in the checkpoint's metadata ("watch.first_loss").
  void store(Metadata& meta) const;
  // Takes it back; a checkpoint without it (written by an older version) leaves the
  // first loss this session sees as the start.
  void restore(const Metadata& meta);

 private:
  double first_loss_ = -1;  // < 0: not seen yet
  int64_t steps_above_ = 0, first_step_above_ = 0, last_step_ = 0;
  double last_loss_ = 0, last_grad_norm_ = 0;
  bool non_finite_ = false;
};

}  // namespace ta::examples

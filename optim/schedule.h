// optim/schedule.h — learning-rate schedules: lr as a pure function of the step.
//
// step counts from 0: the learning rate of the first update is lr(0), so a
// training loop calls opt.step(schedule.lr(opt.step_count())). A schedule holds no
// state, so its position in a checkpoint is just the optimizer's step count.
//
// Why warmup, with Adam, in Transformers: in the first steps Adam's second-moment
// estimate v rests on a handful of gradients, so m / sqrt(v) is noisy and each
// update has about the full size lr in every coordinate, in a random-ish
// direction (Liu et al., 2020, "On the variance of the adaptive learning rate and
// beyond"). At initialization the gradients of a Transformer are also badly
// scaled across layers (largest near the output in a post-norm network; Xiong et
// al., 2020, "On layer normalization in the Transformer architecture"), so full
// steps at once can push it into a region it never leaves (loss stuck or NaN).
// Raising lr linearly from near 0 over the first few thousand steps lets v settle
// and the layers adapt before updates reach full size; Vaswani et al. (2017)
// train with warmup followed by inverse-square-root decay.
#pragma once

#include <cstdint>
#include <memory>

namespace ta {

class Schedule {
 public:
  virtual ~Schedule() = default;
  virtual float lr(int64_t step) const = 0;
};

// lr(step) = lr.
class ConstantSchedule final : public Schedule {
 public:
  explicit ConstantSchedule(float lr);
  float lr(int64_t step) const override;

 private:
  float lr_;
};

// Linear warmup to peak_lr, then a decay from peak_lr down to min_lr at
// total_steps, and min_lr after; the subclass gives the decay's shape:
//   step < warmup:  peak * (step + 1) / warmup
//   otherwise:      decayed(progress), progress = min(1, (step - warmup) / (total - warmup))
class WarmupDecaySchedule : public Schedule {
 public:
  float lr(int64_t step) const final;

 protected:
  // `name` is the subclass's, for the messages of the argument checks.
  WarmupDecaySchedule(float peak_lr, int64_t warmup_steps, int64_t total_steps, float min_lr, const char* name);
  // The learning rate at `progress` in [0, 1] of the decay: peak_ at 0, min_ at 1.
  virtual double decayed(double progress) const = 0;
  float peak_, min_;

 private:
  int64_t warmup_, total_;
  const char* name_;
};

// After warmup, a cosine (Loshchilov & Hutter, 2017, without restarts):
//   decayed(progress) = min + (peak - min) * (1 + cos(pi * progress)) / 2
class WarmupCosineSchedule final : public WarmupDecaySchedule {
 public:
  WarmupCosineSchedule(float peak_lr, int64_t warmup_steps, int64_t total_steps, float min_lr = 0.0f);

 private:
  double decayed(double progress) const override;
};

// After warmup, a straight line from peak_lr to min_lr:
//   decayed(progress) = peak + (min - peak) * progress
class WarmupLinearSchedule final : public WarmupDecaySchedule {
 public:
  WarmupLinearSchedule(float peak_lr, int64_t warmup_steps, int64_t total_steps, float min_lr = 0.0f);

 private:
  double decayed(double progress) const override;
};

// The decay after warmup, for code that chooses it at run time (a flag).
enum class Decay { Cosine, Linear };
// WarmupCosineSchedule or WarmupLinearSchedule with these arguments.
std::unique_ptr<Schedule> warmup_decay_schedule(Decay decay, float peak_lr, int64_t warmup_steps, int64_t total_steps,
                                                float min_lr);

// The schedule of "Attention is all you need" (Vaswani et al., 2017), with its
// d_model^-0.5 * warmup^-0.5 folded into peak_lr; with s = step + 1:
//   lr = peak * min(s / warmup, sqrt(warmup / s))
// rising linearly to peak_lr at s = warmup, then decaying as 1 / sqrt(s).
class InverseSqrtSchedule final : public Schedule {
 public:
  InverseSqrtSchedule(float peak_lr, int64_t warmup_steps);
  float lr(int64_t step) const override;

 private:
  float peak_;
  int64_t warmup_;
};

}  // namespace ta

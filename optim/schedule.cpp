// optim/schedule.cpp — the schedules' formulas and argument checks.
#include "optim/schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/error.h"

namespace ta {

namespace {

void check_lr(float lr, const char* what, const char* schedule) {
  TA_CHECK(std::isfinite(lr) && lr >= 0.0f, schedule, ": ", what, " must be finite and >= 0, got ", lr);
}

void check_step(int64_t step, const char* schedule) {
  TA_CHECK(step >= 0, schedule, ".lr: step counts from 0, got ", step);
}

// Checks shared by the warmup-then-decay schedules.
void check_decay(float peak, int64_t warmup, int64_t total, float min, const char* schedule) {
  check_lr(peak, "peak_lr", schedule);
  check_lr(min, "min_lr", schedule);
  TA_CHECK(min <= peak, schedule, ": min_lr ", min, " is above peak_lr ", peak);
  TA_CHECK(warmup >= 0 && total > warmup, schedule, ": expected 0 <= warmup_steps < total_steps, got ", warmup,
           " and ", total);
}

// The fraction of warmup done after this step: (step + 1) / warmup.
float warmup_fraction(int64_t step, int64_t warmup) {
  return static_cast<float>(static_cast<double>(step + 1) / static_cast<double>(warmup));
}

// How far the decay phase has gone, in [0, 1].
double progress(int64_t step, int64_t warmup, int64_t total) {
  return std::min(1.0, static_cast<double>(step - warmup) / static_cast<double>(total - warmup));
}

}  // namespace

ConstantSchedule::ConstantSchedule(float lr) : lr_(lr) { check_lr(lr, "lr", "ConstantSchedule"); }

float ConstantSchedule::lr(int64_t step) const {
  check_step(step, "ConstantSchedule");
  return lr_;
}

WarmupDecaySchedule::WarmupDecaySchedule(float peak_lr, int64_t warmup_steps, int64_t total_steps, float min_lr,
                                         const char* name)
    : peak_(peak_lr), min_(min_lr), warmup_(warmup_steps), total_(total_steps), name_(name) {
  check_decay(peak_lr, warmup_steps, total_steps, min_lr, name);
}

float WarmupDecaySchedule::lr(int64_t step) const {
  check_step(step, name_);
  if (step < warmup_) return peak_ * warmup_fraction(step, warmup_);
  return static_cast<float>(decayed(progress(step, warmup_, total_)));
}

WarmupCosineSchedule::WarmupCosineSchedule(float peak_lr, int64_t warmup_steps, int64_t total_steps, float min_lr)
    : WarmupDecaySchedule(peak_lr, warmup_steps, total_steps, min_lr, "WarmupCosineSchedule") {}

double WarmupCosineSchedule::decayed(double progress) const {
  const double cosine = 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
  return min_ + (static_cast<double>(peak_) - min_) * cosine;
}

WarmupLinearSchedule::WarmupLinearSchedule(float peak_lr, int64_t warmup_steps, int64_t total_steps, float min_lr)
    : WarmupDecaySchedule(peak_lr, warmup_steps, total_steps, min_lr, "WarmupLinearSchedule") {}

double WarmupLinearSchedule::decayed(double progress) const {
  return peak_ + (static_cast<double>(min_) - peak_) * progress;
}

std::unique_ptr<Schedule> warmup_decay_schedule(Decay decay, float peak_lr, int64_t warmup_steps, int64_t total_steps,
                                                float min_lr) {
  if (decay == Decay::Linear) return std::make_unique<WarmupLinearSchedule>(peak_lr, warmup_steps, total_steps, min_lr);
  return std::make_unique<WarmupCosineSchedule>(peak_lr, warmup_steps, total_steps, min_lr);
}

InverseSqrtSchedule::InverseSqrtSchedule(float peak_lr, int64_t warmup_steps) : peak_(peak_lr), warmup_(warmup_steps) {
  check_lr(peak_lr, "peak_lr", "InverseSqrtSchedule");
  TA_CHECK(warmup_steps >= 1, "InverseSqrtSchedule: warmup_steps must be >= 1, got ", warmup_steps);
}

float InverseSqrtSchedule::lr(int64_t step) const {
  check_step(step, "InverseSqrtSchedule");
  if (step < warmup_) return peak_ * warmup_fraction(step, warmup_);
  return static_cast<float>(peak_ * std::sqrt(static_cast<double>(warmup_) / static_cast<double>(step + 1)));
}

}  // namespace ta

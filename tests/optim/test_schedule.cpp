// tests/optim/test_schedule.cpp — learning-rate schedules at chosen steps, and
// their argument checks.
//
// Steps count from 0 (the first update uses lr(0)); warmup reaches the peak at
// step warmup - 1.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/error.h"
#include "optim/schedule.h"

TEST_CASE("schedule: constant") {
  ta::ConstantSchedule s(0.25f);
  CHECK(s.lr(0) == 0.25f);
  CHECK(s.lr(123456) == 0.25f);
}

TEST_CASE("schedule: warmup then cosine") {
  // peak 1, warmup 4, total 14 (a 10-step cosine), floor 0.1
  ta::WarmupCosineSchedule s(1.0f, 4, 14, 0.1f);
  CHECK(s.lr(0) == doctest::Approx(0.25));
  CHECK(s.lr(1) == doctest::Approx(0.5));
  CHECK(s.lr(3) == doctest::Approx(1.0));                          // end of warmup: the peak
  CHECK(s.lr(4) == doctest::Approx(1.0));                          // progress 0
  CHECK(s.lr(9) == doctest::Approx(0.55));                         // progress 1/2: halfway, 0.1 + 0.9 / 2
  CHECK(s.lr(6) == doctest::Approx(0.1 + 0.9 * 0.5 * (1 + std::cos(std::numbers::pi * 0.2))));
  CHECK(s.lr(14) == doctest::Approx(0.1));                         // progress 1: the floor
  CHECK(s.lr(1000) == doctest::Approx(0.1));                       // and it stays there
  // Without warmup the first step is at the peak.
  ta::WarmupCosineSchedule no_warmup(2.0f, 0, 10);
  CHECK(no_warmup.lr(0) == doctest::Approx(2.0));
  CHECK(no_warmup.lr(5) == doctest::Approx(1.0));
  CHECK(no_warmup.lr(10) == doctest::Approx(0.0));
}

TEST_CASE("schedule: warmup then linear decay") {
  ta::WarmupLinearSchedule s(1.0f, 2, 12);
  CHECK(s.lr(0) == doctest::Approx(0.5));
  CHECK(s.lr(1) == doctest::Approx(1.0));
  CHECK(s.lr(2) == doctest::Approx(1.0));
  CHECK(s.lr(7) == doctest::Approx(0.5));
  CHECK(s.lr(11) == doctest::Approx(0.1));
  CHECK(s.lr(12) == doctest::Approx(0.0));
  CHECK(s.lr(50) == doctest::Approx(0.0));
  ta::WarmupLinearSchedule floor(1.0f, 0, 4, 0.2f);
  CHECK(floor.lr(2) == doctest::Approx(0.6));
  CHECK(floor.lr(9) == doctest::Approx(0.2));
}

TEST_CASE("schedule: inverse square root") {
  ta::InverseSqrtSchedule s(1.0f, 4);
  CHECK(s.lr(0) == doctest::Approx(0.25));
  CHECK(s.lr(3) == doctest::Approx(1.0));   // s = 4 = warmup: the peak
  CHECK(s.lr(15) == doctest::Approx(0.5));  // s = 16: sqrt(4 / 16)
  CHECK(s.lr(99) == doctest::Approx(0.2));  // s = 100: sqrt(4 / 100)
  // It is Vaswani et al.'s d^-0.5 min(s^-0.5, s warmup^-1.5) with peak = (d warmup)^-0.5.
  const double d = 512, w = 4000;
  ta::InverseSqrtSchedule noam(static_cast<float>(1.0 / std::sqrt(d * w)), 4000);
  for (int step : {0, 999, 3999, 4000, 20000}) {
    double t = step + 1;
    CHECK(noam.lr(step) == doctest::Approx(std::pow(d, -0.5) * std::min(std::pow(t, -0.5), t * std::pow(w, -1.5))));
  }
}

TEST_CASE("schedule: bad arguments are errors naming the schedule") {
  CHECK_THROWS_WITH_AS(ta::ConstantSchedule(-1.0f), doctest::Contains("ConstantSchedule: lr must be finite"), ta::Error);
  CHECK_THROWS_WITH_AS(ta::WarmupCosineSchedule(1.0f, 10, 10), doctest::Contains("warmup_steps < total_steps"),
                       ta::Error);
  CHECK_THROWS_WITH_AS(ta::WarmupLinearSchedule(1.0f, 0, 10, 2.0f), doctest::Contains("min_lr 2 is above peak_lr 1"),
                       ta::Error);
  CHECK_THROWS_WITH_AS(ta::InverseSqrtSchedule(1.0f, 0), doctest::Contains("warmup_steps must be >= 1"), ta::Error);
  CHECK_THROWS_WITH_AS(ta::ConstantSchedule(1.0f).lr(-1), doctest::Contains("step counts from 0"), ta::Error);
}

TEST_CASE("schedule: the decay chosen at run time is the named schedule") {
  const auto cosine = ta::warmup_decay_schedule(ta::Decay::Cosine, 1.0f, 4, 14, 0.1f);
  const auto linear = ta::warmup_decay_schedule(ta::Decay::Linear, 1.0f, 4, 14, 0.1f);
  const ta::WarmupCosineSchedule cosine_direct(1.0f, 4, 14, 0.1f);
  const ta::WarmupLinearSchedule linear_direct(1.0f, 4, 14, 0.1f);
  for (int step : {0, 3, 4, 6, 9, 13, 14, 20}) {
    CHECK(cosine->lr(step) == cosine_direct.lr(step));
    CHECK(linear->lr(step) == linear_direct.lr(step));
  }
  CHECK(cosine->lr(6) != linear->lr(6));  // the two differ inside the decay
  CHECK_THROWS_WITH_AS(ta::warmup_decay_schedule(ta::Decay::Linear, 1.0f, 5, 5, 0.0f),
                       doctest::Contains("WarmupLinearSchedule"), ta::Error);
}

// The vectorizable exp and erf of the CPU backend (core/cpu/fast_exp.h,
// core/cpu/fast_erf.h) against the C library, over the whole range they serve.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "core/cpu/fast_erf.h"
#include "core/cpu/fast_exp.h"

using ta::cpu::fast_erf;
using ta::cpu::fast_exp;

TEST_CASE("fast_exp: relative error below 3e-7 from -87 to 88, exact limits, NaN kept") {
  double worst = 0;
  for (float x = -87.0f; x < 88.5f; x += 0.001953125f * 3.1f) {
    const double ref = std::exp(static_cast<double>(x));
    worst = std::max(worst, std::abs(fast_exp(x) - ref) / ref);
  }
  CHECK(worst < 3e-7);
  CHECK(fast_exp(0.0f) == 1.0f);
  CHECK(fast_exp(-100.0f) == 0.0f);
  CHECK(fast_exp(-std::numeric_limits<float>::infinity()) == 0.0f);
  CHECK(fast_exp(100.0f) == std::numeric_limits<float>::infinity());
  CHECK(std::isnan(fast_exp(std::numeric_limits<float>::quiet_NaN())));
}

TEST_CASE("fast_erf: absolute error below 6e-7, odd, saturates at +-1, NaN kept") {
  double worst = 0;
  for (float x = -8.0f; x < 8.0f; x += 0.0003f) {
    const double ref = std::erf(static_cast<double>(x));
    worst = std::max(worst, std::abs(fast_erf(x) - ref));
    REQUIRE(fast_erf(-x) == -fast_erf(x));
  }
  CHECK(worst < 6e-7);
  CHECK(worst > 0);  // it is an approximation: the bound above is what it promises
  CHECK(fast_erf(0.0f) == 0.0f);
  CHECK(fast_erf(30.0f) == 1.0f);
  CHECK(fast_erf(-std::numeric_limits<float>::infinity()) == -1.0f);
  CHECK(std::isnan(fast_erf(std::numeric_limits<float>::quiet_NaN())));
}

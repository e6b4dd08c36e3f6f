// The vectorizable exp and erf of the CPU backend (core/fast_math.h,
// core/fast_math.h) against the C library, over the whole range they serve, and
// the branch-free sigmoid built on fast_exp (core/elementwise_math.h).
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "core/elementwise_math.h"
#include "core/fast_math.h"

using ta::fast_erf;
using ta::fast_exp;

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

TEST_CASE("sigmoid: relative error below 1e-6 from -87 to 88, exact 0 and 1 at the ends, NaN kept") {
  double worst = 0;
  for (float x = -87.0f; x < 88.0f; x += 0.0013f * 7.3f) {
    const double ref = 1.0 / (1.0 + std::exp(-static_cast<double>(x)));
    worst = std::max(worst, std::abs(ta::sigmoid(x) - ref) / ref);
  }
  CHECK(worst < 1e-6);
  CHECK(ta::sigmoid(0.0f) == 0.5f);
  CHECK(ta::sigmoid(-100.0f) == 0.0f);  // e^100 overflows to +inf: 1 / (1 + inf)
  CHECK(ta::sigmoid(-std::numeric_limits<float>::infinity()) == 0.0f);
  CHECK(ta::sigmoid(100.0f) == 1.0f);
  CHECK(std::isnan(ta::sigmoid(std::numeric_limits<float>::quiet_NaN())));
}

// core/cpu/fast_erf.h — erf(x) in plain arithmetic that the compiler vectorizes.
//
// std::erf is a scalar library call, and the exact GELU, x Phi(x) =
// 0.5 x (1 + erf(x / sqrt 2)), evaluates it on every feed-forward activation
// (4M per layer of the benchmark's training step) forward and backward. This is
// the rational approximation 7.1.26 of Abramowitz and Stegun: for x >= 0
//   erf(x) = 1 - (a1 t + a2 t^2 + a3 t^3 + a4 t^4 + a5 t^5) e^(-x^2),  t = 1 / (1 + p x),
// odd in x, with the exponential from fast_exp.h. The formula's absolute error is
// below 1.5e-7; evaluated in float it stays below 6e-7 (a few ulp of values near 1),
// with or without fused multiply-adds. The error is absolute, not relative: right for
// 1 + erf(x) (the GELU), not for erf of tiny x on its own. NaN stays NaN.
#pragma once

#include "core/cpu/fast_exp.h"

namespace ta::cpu {

inline float fast_erf(float x) {
  constexpr float p = 0.3275911f;
  constexpr float a1 = 0.254829592f, a2 = -0.284496736f, a3 = 1.421413741f, a4 = -1.453152027f, a5 = 1.061405429f;
  const float ax = x < 0 ? -x : x;
  const float t = 1.0f / (1.0f + p * ax);
  const float poly = ((((a5 * t + a4) * t + a3) * t + a2) * t + a1) * t;
  const float e = 1.0f - poly * fast_exp(-ax * ax);
  return x < 0 ? -e : e;  // NaN: every step above keeps it
}

}  // namespace ta::cpu

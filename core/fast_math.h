// core/fast_math.h — exp(x) and erf(x) in plain arithmetic that the compiler
// vectorizes: the host's e^x and erf in the formulas of core/elementwise_math.h (on
// the GPU those use the device's expf and erff), and the exponential of the CPU
// backend's softmax, loss and attention loops.
//
// fast_exp. std::exp is a library call per element (no vector version without
// -ffast-math, which this project never uses), and attention evaluates n^2 of them. This is the
// classic Cephes expf: write x = n ln2 + r with |r| <= ln2/2, approximate e^r by a
// degree-6 polynomial, and scale by 2^n by building the float's exponent bits.
// Relative error below 2e-7 (about 2 ulp) on the whole float range; inputs below
// -87.3 (including -inf) give exactly 0, above 88.7 +inf, NaN stays NaN.
// (exp(-87.3) = 1.2e-38 is at the bottom of the normal floats: the cut loses nothing.)
//
// fast_erf. std::erf is a scalar library call, and the exact GELU, x Phi(x) =
// 0.5 x (1 + erf(x / sqrt 2)), evaluates it on every feed-forward activation
// (4M per layer of the benchmark's training step) forward and backward. This is
// the rational approximation 7.1.26 of Abramowitz and Stegun: for x >= 0
//   erf(x) = 1 - (a1 t + a2 t^2 + a3 t^3 + a4 t^4 + a5 t^5) e^(-x^2),  t = 1 / (1 + p x),
// odd in x, with the exponential of fast_exp. The formula's absolute error is
// below 1.5e-7; evaluated in float it stays below 6e-7 (a few ulp of values near 1),
// with or without fused multiply-adds. The error is absolute, not relative: right for
// 1 + erf(x) (the GELU), not for erf of tiny x on its own. NaN stays NaN.
#pragma once

#include <bit>
#include <cstdint>
#include <limits>

namespace ta {

inline float fast_exp(float x) {
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;
  const float xc = x < -87.3f ? -87.3f : (x > 88.7f ? 88.7f : x);
  // n = round(xc log2 e): adding and subtracting 1.5 * 2^23 rounds to an integer.
  const float n = (xc * kLog2e + 12582912.0f) - 12582912.0f;
  const float r = xc - n * kLn2Hi - n * kLn2Lo;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  // 2^n built from exponent bits, in two halves so that n = 128 does not overflow.
  const int32_t n1 = static_cast<int32_t>(n) >> 1, n2 = static_cast<int32_t>(n) - n1;
  float y = p * std::bit_cast<float>((n1 + 127) << 23) * std::bit_cast<float>((n2 + 127) << 23);
  y = x < -87.3f ? 0.0f : y;
  y = x > 88.7f ? std::numeric_limits<float>::infinity() : y;
  return x != x ? x : y;
}

inline float fast_erf(float x) {
  constexpr float p = 0.3275911f;
  constexpr float a1 = 0.254829592f, a2 = -0.284496736f, a3 = 1.421413741f, a4 = -1.453152027f, a5 = 1.061405429f;
  const float ax = x < 0 ? -x : x;
  const float t = 1.0f / (1.0f + p * ax);
  const float poly = ((((a5 * t + a4) * t + a3) * t + a2) * t + a1) * t;
  const float e = 1.0f - poly * fast_exp(-ax * ax);
  return x < 0 ? -e : e;  // NaN: every step above keeps it
}

}  // namespace ta

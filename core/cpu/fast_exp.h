// core/cpu/fast_exp.h — exp(x) in plain arithmetic that the compiler vectorizes.
//
// std::exp is a library call per element (no vector version without -ffast-math,
// which this project never uses), and attention evaluates n^2 of them. This is the
// classic Cephes expf: write x = n ln2 + r with |r| <= ln2/2, approximate e^r by a
// degree-6 polynomial, and scale by 2^n by building the float's exponent bits.
// Relative error below 2e-7 (about 2 ulp) on the whole float range; inputs below
// -87.3 (including -inf) give exactly 0, above 88.7 +inf, NaN stays NaN.
// (exp(-87.3) = 1.2e-38 is at the bottom of the normal floats: the cut loses nothing.)
#pragma once

#include <bit>
#include <cstdint>
#include <limits>

namespace ta::cpu {

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

}  // namespace ta::cpu

// core/philox.h — Philox4x32-10 and the random values made from it, written once
// for the CPU backend and the CUDA kernels alike (see core/random.h for the idea).
//
// The uniform value is the same float on both devices, bit for bit. The normal value
// goes through logf, sqrtf and cosf, which the device's math library rounds within
// an ulp or two of the host's, so it agrees to float rounding.
#pragma once

#include <cmath>
#include <cstdint>

#include "core/host_device.h"

namespace ta {

struct PhiloxWords {
  uint32_t w[4];
};

// State: four 32-bit counter words c and two key words k. Each round multiplies c0
// and c2 by fixed constants, keeps the high and low halves of the 64-bit products,
// and xors them crosswise with the other words and the key; the key is bumped by
// the Weyl constants between rounds.
TA_HOST_DEVICE inline PhiloxWords philox4x32_10(uint64_t key, uint64_t counter) {
  const uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
  const uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;
  uint32_t c0 = static_cast<uint32_t>(counter), c1 = static_cast<uint32_t>(counter >> 32), c2 = 0, c3 = 0;
  uint32_t k0 = static_cast<uint32_t>(key), k1 = static_cast<uint32_t>(key >> 32);
  for (int round = 0; round < 10; ++round) {
    uint64_t p0 = static_cast<uint64_t>(kMul0) * c0;
    uint64_t p1 = static_cast<uint64_t>(kMul1) * c2;
    uint32_t hi0 = static_cast<uint32_t>(p0 >> 32), lo0 = static_cast<uint32_t>(p0);
    uint32_t hi1 = static_cast<uint32_t>(p1 >> 32), lo1 = static_cast<uint32_t>(p1);
    uint32_t n0 = hi1 ^ c1 ^ k0, n1 = lo1, n2 = hi0 ^ c3 ^ k1, n3 = lo0;
    c0 = n0, c1 = n1, c2 = n2, c3 = n3;
    k0 += kWeyl0;
    k1 += kWeyl1;
  }
  return {{c0, c1, c2, c3}};
}

// Uniform in [0, 1) from one 32-bit word (24 bits of mantissa, never 1.0).
TA_HOST_DEVICE inline float uint_to_unit_float(uint32_t w) { return static_cast<float>(w >> 8) * (1.0f / 16777216.0f); }

// lo + (hi - lo) u(seed, counter). The multiply-add is written as one fused
// multiply-add (one rounding) so that no compiler rounds it differently; these are
// the bits the CPU backend produced before, when the compiler fused it itself.
TA_HOST_DEVICE inline float philox_uniform(uint64_t seed, uint64_t counter, float lo, float hi) {
  return fmaf(hi - lo, uint_to_unit_float(philox4x32_10(seed, counter).w[0]), lo);
}

// Box-Muller: with u1 in (0, 1] and u2 in [0, 1), sqrt(-2 ln u1) cos(2 pi u2) is
// standard normal. Both come from the same counter, so element i needs no neighbour.
TA_HOST_DEVICE inline float philox_normal(uint64_t seed, uint64_t counter, float mean, float std) {
  PhiloxWords r = philox4x32_10(seed, counter);
  float u1 = static_cast<float>((r.w[0] >> 8) + 1) * (1.0f / 16777216.0f);
  float u2 = uint_to_unit_float(r.w[1]);
  return fmaf(std * sqrtf(-2.0f * logf(u1)), cosf(6.283185307179586f * u2), mean);
}

}  // namespace ta

// core/random.h — one seeded counter-based random number generator.
//
// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3",
// SC 2011) maps a 64-bit key (the seed) and a 128-bit counter to four random
// 32-bit words through ten rounds of multiply-and-xor. Element i of a random fill
// uses counter = offset + i, so its value depends only on (seed, offset + i):
// the same seed gives the same numbers whatever the thread count or device.
// A Generator is just (seed, offset); each fill advances offset by its size.
#pragma once

#include <array>
#include <cstdint>

#include "core/philox.h"

namespace ta {

// The four words of Philox4x32-10 for (key, counter) (core/philox.h, shared with the GPU).
inline std::array<uint32_t, 4> philox4x32(uint64_t key, uint64_t counter) {
  PhiloxWords r = philox4x32_10(key, counter);
  return {r.w[0], r.w[1], r.w[2], r.w[3]};
}

struct Generator {
  uint64_t seed = 0;
  uint64_t offset = 0;  // counters already used

  explicit Generator(uint64_t seed_ = 0) : seed(seed_) {}
  // Reserves n counters and returns the first of them.
  uint64_t advance(uint64_t n) {
    uint64_t first = offset;
    offset += n;
    return first;
  }
  // One uniform number in [0, 1), for host-side decisions (sampling, shuffles).
  float next_uniform() { return uint_to_unit_float(philox4x32(seed, advance(1))[0]); }
};

// The process-wide generator used where no Generator is passed.
Generator& default_generator();
void manual_seed(uint64_t seed);

}  // namespace ta

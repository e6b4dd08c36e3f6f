// tests/cuda/fused_testing.h — what the tests of the CUDA backend's fused attention
// kernels (core/cuda/kernels/) add to tests/cuda/kernel_testing.h: a launcher that can
// also shrink the blocks, and an error relative to the largest reference value. An
// attention gradient is a sum of many terms that may cancel to near zero, so entries
// are compared against the scale of the whole tensor rather than one by one.
#pragma once

#include "tests/cuda/kernel_testing.h"
#include "tests/cuda/simt.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "core/backend.h"

namespace ta::testing {

// Runs the launch plans of core/cuda/kernels/ under the emulation, with the threads
// of each block taking turns in `order`. With threads > 0 every block gets that many
// threads instead of what the plan asks for (the fused kernels work for any block
// size; fewer threads keep the tests quick).
struct EmulatedLaunch {
  unsigned threads = 0;
  simt::Order order = simt::Order::Forward;
  template <class... Params, class... Args>
  void operator()(void (*kernel)(Params...), dim3 grid, dim3 block, size_t shared_bytes, Args&&... args) const {
    simt::launch_in_order(order, kernel, grid, threads > 0 ? dim3(threads) : block, shared_bytes,
                          std::forward<Args>(args)...);
  }
};

// The launches the fused kernels' cases pick from: blocks of 32 threads taking turns
// in order (quick) or in reverse (reverse), or the block size the plan asks for (full).
inline const EmulatedLaunch quick{32}, reverse{32, simt::Order::Reverse}, full{};

// max |a - b| / max |b|, with max |b| floored at `floor`. Equal infinities (the +inf
// log-sum-exp of a row without keys) agree; a NaN or any other mismatch of
// infinities makes the error infinite.
inline float relative_error(const std::vector<float>& a, const std::vector<float>& b, float floor = 1e-2f) {
  REQUIRE(a.size() == b.size());
  float diff = 0.0f, scale = 0.0f;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isinf(b[i]) && a[i] == b[i]) continue;
    const float d = std::fabs(a[i] - b[i]);
    if (!(d <= std::numeric_limits<float>::max())) return std::numeric_limits<float>::infinity();
    diff = std::max(diff, d);
    scale = std::max(scale, std::fabs(b[i]));
  }
  return diff / std::max(scale, floor);
}

// An exact attention core's emulated results against the CPU backend's: outputs and
// log-sum-exp within 1e-5, the three gradients within 1e-4 (relative_error).
struct AttentionResults {
  const std::vector<float> &o, &lse, &dq, &dk, &dv;
};
inline void check_attention_results(const AttentionResults& got, const AttentionResults& ref) {
  CHECK(relative_error(got.o, ref.o) < 1e-5f);
  CHECK(relative_error(got.lse, ref.lse) < 1e-5f);
  CHECK(relative_error(got.dq, ref.dq) < 1e-4f);
  CHECK(relative_error(got.dk, ref.dk) < 1e-4f);
  CHECK(relative_error(got.dv, ref.dv) < 1e-4f);
}

}  // namespace ta::testing

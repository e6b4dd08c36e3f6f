// tests/cuda/fused_testing.h — helpers shared by the tests of the fused attention
// kernels of the CUDA backend (core/cuda/kernels/): a launcher that runs a kernel
// under the SIMT emulation, random inputs, the CPU backend to compare with, and a
// relative error that NaN cannot slip through.
#pragma once

#include "tests/cuda/simt.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
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

inline Backend& cpu() { return backend(Device::CPU); }

// n normal numbers (mean 0, standard deviation `stddev`) from `seed`.
inline std::vector<float> random_vector(int64_t n, uint64_t seed, float stddev = 1.0f) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<float> normal(0.0f, stddev);
  std::vector<float> x(static_cast<size_t>(n));
  for (float& v : x) v = normal(gen);
  return x;
}

// An output buffer full of NaN, so that an entry a kernel forgets to write shows.
inline std::vector<float> unwritten(int64_t n) {
  return std::vector<float>(static_cast<size_t>(n), std::numeric_limits<float>::quiet_NaN());
}

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

}  // namespace ta::testing

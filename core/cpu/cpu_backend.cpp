// Memory, creation and random numbers on the CPU.
#include "core/cpu/cpu_backend.h"

#include <cmath>
#include <cstring>

#include "core/allocator.h"
#include "core/cpu/parallel.h"
#include "core/random.h"

namespace ta::cpu {

float* CpuBackend::allocate(int64_t n) {
  return static_cast<float*>(cpu_allocator().allocate(static_cast<size_t>(n) * sizeof(float)));
}
void CpuBackend::deallocate(float* p, int64_t n) { cpu_allocator().deallocate(p, static_cast<size_t>(n) * sizeof(float)); }

void CpuBackend::copy_from_host(const float* host, float* dst, int64_t n) { copy(host, dst, n); }
void CpuBackend::copy_to_host(const float* src, float* host, int64_t n) { copy(src, host, n); }

void CpuBackend::copy(const float* src, float* dst, int64_t n) {
  if (n > 0 && src != dst) std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
}

void CpuBackend::fill(float* out, int64_t n, float value) {
  parallel_for(n, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) out[i] = value;
  });
}

void CpuBackend::arange(float* out, int64_t n, float start, float step) {
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(start + static_cast<double>(step) * i);
}

void CpuBackend::random_uniform(float* out, int64_t n, uint64_t seed, uint64_t offset, float lo, float hi) {
  parallel_for(n, 40, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) out[i] = lo + (hi - lo) * uint_to_unit_float(philox4x32(seed, offset + i)[0]);
  });
}

// Box-Muller: with u1 in (0, 1] and u2 in [0, 1), sqrt(-2 ln u1) cos(2 pi u2) is
// standard normal. Both come from the same counter, so element i needs no neighbour.
void CpuBackend::random_normal(float* out, int64_t n, uint64_t seed, uint64_t offset, float mean, float std) {
  parallel_for(n, 60, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      auto w = philox4x32(seed, offset + i);
      float u1 = static_cast<float>((w[0] >> 8) + 1) * (1.0f / 16777216.0f);
      float u2 = uint_to_unit_float(w[1]);
      out[i] = mean + std * std::sqrt(-2.0f * std::log(u1)) * std::cos(6.283185307179586f * u2);
    }
  });
}

}  // namespace ta::cpu

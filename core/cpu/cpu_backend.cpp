// Memory, creation and random numbers on the CPU.
#include "core/cpu/cpu_backend.h"

#include <cmath>
#include <cstring>

#include "core/allocator.h"
#include "core/cpu/parallel.h"
#include "core/philox.h"

namespace ta::cpu {

float* CpuBackend::allocate(int64_t n) { return static_cast<float*>(cpu_allocator().allocate(float_bytes(n))); }
void CpuBackend::deallocate(float* p, int64_t n) { cpu_allocator().deallocate(p, float_bytes(n)); }

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
    for (int64_t i = b; i < e; ++i) out[i] = philox_uniform(seed, offset + i, lo, hi);
  });
}

// Box-Muller from the counter of each element: core/philox.h.
void CpuBackend::random_normal(float* out, int64_t n, uint64_t seed, uint64_t offset, float mean, float std) {
  parallel_for(n, 60, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) out[i] = philox_normal(seed, offset + i, mean, std);
  });
}

}  // namespace ta::cpu

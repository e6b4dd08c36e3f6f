// core/cpu/gemm/microkernel_avx2.cpp — the 6 x 16 micro-kernel for AVX2 + FMA.
//
// 8 floats per register, 16 registers: 12 accumulators + 2 for B's row + 1 broadcast.
// Built the way microkernel_avx512.cpp explains; used when the processor has AVX2 and
// FMA but no AVX-512.
#include "core/cpu/gemm/microkernel.h"

#if defined(__x86_64__)
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "core/cpu/gemm/isa_region.h"
#include "core/epilogue_math.h"

TA_ISA_REGION_BEGIN("avx2,fma")

#include "core/cpu/gemm/tile_kernel.h"

namespace ta::cpu::gemm {
namespace {

struct Avx2 {
  using V = __m256;
  static constexpr int kLanes = 8;
  static V zero() { return _mm256_setzero_ps(); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static V broadcast(float x) { return _mm256_set1_ps(x); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
};

constexpr MicroKernel kAvx2 = make_micro_kernel<Avx2, 6, 2>("avx2 6x16");

}  // namespace

const MicroKernel* avx2_kernel() {
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? &kAvx2 : nullptr;
}

}  // namespace ta::cpu::gemm

TA_ISA_REGION_END

#else

namespace ta::cpu::gemm {
const MicroKernel* avx2_kernel() { return nullptr; }
}  // namespace ta::cpu::gemm

#endif

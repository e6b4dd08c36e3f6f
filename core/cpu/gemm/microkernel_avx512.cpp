// core/cpu/gemm/microkernel_avx512.cpp — the 12 x 32 micro-kernel for AVX-512.
//
// 16 floats per register; 24 accumulators + 2 for B's row + 1 broadcast (blocking.h).
//
// How one library holds kernels for instruction sets the machine may lack: everything
// this file includes is included first, compiled for the build's own target; then
// TA_ISA_REGION_BEGIN (isa_region.h) turns AVX-512 on for the rest of the file only,
// where the kernel templates are instantiated for the Avx512 type (anonymous namespace, so the copies
// are private to this file). Nothing here runs unless CPUID says the processor (and
// its operating system) supports AVX-512F (avx512_kernel()).
#include "core/cpu/gemm/microkernel.h"

#if defined(__x86_64__)
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "core/cpu/gemm/isa_region.h"
#include "core/epilogue_math.h"

TA_ISA_REGION_BEGIN("avx2,fma,avx512f")

#include "core/cpu/gemm/tile_kernel.h"

namespace ta::cpu::gemm {
namespace {

struct Avx512 {
  using V = __m512;
  static constexpr int kLanes = 16;
  static V zero() { return _mm512_setzero_ps(); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static V broadcast(float x) { return _mm512_set1_ps(x); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
};

constexpr MicroKernel kAvx512 = make_micro_kernel<Avx512, 12, 2>("avx512 12x32");

}  // namespace

const MicroKernel* avx512_kernel() {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma") ? &kAvx512 : nullptr;
}

}  // namespace ta::cpu::gemm

TA_ISA_REGION_END

#else

namespace ta::cpu::gemm {
const MicroKernel* avx512_kernel() { return nullptr; }
}  // namespace ta::cpu::gemm

#endif

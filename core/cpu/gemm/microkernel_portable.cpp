// core/cpu/gemm/microkernel_portable.cpp — the 4 x 8 micro-kernel for any processor.
//
// Plain C++ on the compiler's generic 4-float vectors (GCC/Clang vector extensions),
// compiled for whatever the build targets: SSE2 on any x86-64, NEON on ARM. The
// fallback when CPUID offers neither AVX-512 nor AVX2 + FMA, or on other architectures.
#include <cstdint>
#include <cstring>

#include "core/cpu/gemm/tile_kernel.h"

namespace ta::cpu::gemm {
namespace {

struct Portable {
  using V = float __attribute__((vector_size(16)));
  static constexpr int kLanes = 4;
  static V zero() { return V{}; }
  static V load(const float* p) {
    V v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  static V broadcast(float x) { return V{x, x, x, x}; }
  static V fma(V a, V b, V c) { return a * b + c; }
  static V add(V a, V b) { return a + b; }
  static void store(float* p, V v) { std::memcpy(p, &v, sizeof v); }
};

constexpr MicroKernel kPortable = make_micro_kernel<Portable, 4, 2>("portable 4x8");

}  // namespace

const MicroKernel& portable_kernel() { return kPortable; }

}  // namespace ta::cpu::gemm

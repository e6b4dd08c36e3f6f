// core/cpu/gemm/tile_kernel.h — the register-blocked micro-kernel, written once for every
// vector width.
//
// tile (MR x NR) = A~ B~ over kc steps, NR = NV vectors of Simd::kLanes floats:
//   for k < kc:
//     b_v = B~[k, v-th vector]             NV loads
//     for each row i:
//       a = A~[k, i], broadcast            1 load
//       acc[i][v] += a * b_v               NV fused multiply-adds
// The MR x NV accumulators are named by compile-time indices only, so the compiler
// keeps all of them in registers for the whole loop (blocking.h says how many fit).
//
// The includer (microkernel_<isa>.cpp) defines Simd, inside its target region:
//   V, kLanes, zero(), load(p), broadcast(x), fma(a, b, c) = a * b + c, add(a, b), store(p, v).
// Simd makes each instruction set's copy its own function (see epilogue.h).
#pragma once

#include <cstdint>

#include "core/cpu/gemm/epilogue.h"
#include "core/cpu/gemm/microkernel.h"
#include "core/cpu/gemm/pack.h"

namespace ta::cpu::gemm {

// The first Rows rows of the tile from a sliver packed MR rows wide (Rows <= MR).
template <class Simd, int MR, int Rows, int NV>
void multiply_rows(int64_t kc, const float* a, const float* b, const TileWrite& out) {
  constexpr int NR = NV * Simd::kLanes;
  for (int64_t i = 0; i < out.rows; ++i) __builtin_prefetch(out.c + i * out.ldc);  // C, for the end
  typename Simd::V acc[Rows][NV];
  for (int i = 0; i < Rows; ++i)
    for (int v = 0; v < NV; ++v) acc[i][v] = Simd::zero();
  for (int64_t k = 0; k < kc; ++k, a += MR, b += NR) {
    typename Simd::V row[NV];
    for (int v = 0; v < NV; ++v) row[v] = Simd::load(b + v * Simd::kLanes);
    for (int i = 0; i < Rows; ++i) {
      const typename Simd::V ai = Simd::broadcast(a[i]);
      for (int v = 0; v < NV; ++v) acc[i][v] = Simd::fma(ai, row[v], acc[i][v]);
    }
  }
  // The common case straight from the registers: every computed row and column valid,
  // C = tile or C += tile.
  if (out.rows == Rows && out.cols == NR && out.alpha == 1.0f && (out.beta == 0.0f || out.beta == 1.0f) &&
      !out.bias && !out.pre && out.activation == EpilogueActivation::None) {
    for (int i = 0; i < Rows; ++i)
      for (int v = 0; v < NV; ++v) {
        float* c = out.c + i * out.ldc + v * Simd::kLanes;
        Simd::store(c, out.beta == 0.0f ? acc[i][v] : Simd::add(Simd::load(c), acc[i][v]));
      }
    return;
  }
  // Anything else (edges, alpha, beta, bias, activation) through the epilogue.
  alignas(64) float tile[Rows * NR];
  for (int i = 0; i < Rows; ++i)
    for (int v = 0; v < NV; ++v) Simd::store(tile + i * NR + v * Simd::kLanes, acc[i][v]);
  finish_tile<Simd, NR>(tile, NR, out);
}

// The tile of one sliver. A sliver at C's bottom edge holds fewer than MR valid rows
// (the rest packed as zeros): it computes a third, two thirds or all of the MR rows,
// the fewest that cover them, instead of multiplying the zeros (with MR = 12, M = 256
// ends in a sliver of 4 rows, which would cost a whole sliver: 3% of the product; M = 64, 11%).
template <class Simd, int MR, int NV>
void multiply_tile(int64_t kc, const float* a, const float* b, const TileWrite& out) {
  constexpr int kThird = MR / 3;
  static_assert(kThird > 0, "a micro-kernel tile has at least 3 rows");
  if (out.rows <= kThird) return multiply_rows<Simd, MR, kThird, NV>(kc, a, b, out);
  if (out.rows <= 2 * kThird) return multiply_rows<Simd, MR, 2 * kThird, NV>(kc, a, b, out);
  multiply_rows<Simd, MR, MR, NV>(kc, a, b, out);
}

// The micro-kernel of Simd with an MR x (NV lanes) tile, with its packing and epilogue.
template <class Simd, int MR, int NV>
constexpr MicroKernel make_micro_kernel(const char* name) {
  constexpr int NR = NV * Simd::kLanes;
  return MicroKernel{name,
                     MR,
                     NR,
                     multiply_tile<Simd, MR, NV>,
                     pack_strips<Simd, MR>,
                     pack_strips<Simd, NR>,
                     finish_tile<Simd>};
}

}  // namespace ta::cpu::gemm

// core/cpu/gemm/epilogue.h — writing a finished tile: alpha, beta, bias, activation.
//
// The micro-kernel ends with its MR x NR sums in registers, spills them to a small
// aligned tile (1.5 KiB for 12 x 32: it never leaves L1) and hands it here. Every
// value then goes to C once, already final:
//   v = alpha tile[i][j] + beta C[i][j]     (C not read when beta == 0: garbage and NaN stay out)
//   v += bias[j]                             (Linear's bias, per output column)
//   pre[i][j] = v                            (kept when the activation's backward needs it)
//   C[i][j] = act(v)                         (core/epilogue_math.h)
// So bias and activation cost no pass over C of their own. The loops run along j, the
// contiguous direction, and vectorize for the includer's instruction set.
//
// Include only from microkernel_<isa>.cpp, inside its target region (see there); the
// template parameter Simd is that file's own type, so each instruction set gets its own
// copy of these functions and the linker never mixes them up.
#pragma once

#include <algorithm>
#include <cstdint>

#include "core/cpu/gemm/microkernel.h"
#include "core/epilogue_math.h"

namespace ta::cpu::gemm {

// One step at a time over the tile's rows (in L1: NR values each; the OpenBLAS path
// hands whole rows of C), each step a loop nest the compiler vectorizes, the
// activation's constants set up once for the whole tile. The fields of `out` are read
// into locals first, since a store through c could otherwise alias them.
template <class Simd, EpilogueActivation act, int64_t kCols>
void finish_rows(const float* acc, int64_t ld_acc, const TileWrite& out) {
  const float alpha = out.alpha, beta = out.beta;
  const float* bias = out.bias;
  float* const c = out.c;
  const int64_t rows = out.rows, cols = kCols > 0 ? kCols : out.cols, ldc = out.ldc;
  for (int64_t i = 0; i < rows; ++i) {
    const float* x = acc + i * ld_acc;
    float* ci = c + i * ldc;
    if (beta == 0.0f)
      for (int64_t j = 0; j < cols; ++j) ci[j] = alpha * x[j];
    else
      for (int64_t j = 0; j < cols; ++j) ci[j] = alpha * x[j] + beta * ci[j];
    if (bias)
      for (int64_t j = 0; j < cols; ++j) ci[j] += bias[j];
  }
  if (out.pre)
    for (int64_t i = 0; i < rows; ++i) std::copy(c + i * ldc, c + i * ldc + cols, out.pre + i * ldc);
  if constexpr (act != EpilogueActivation::None)
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j) c[i * ldc + j] = epilogue_activation(act, c[i * ldc + j]);
}

// kFullCols: the tile's width, known when the micro-kernel calls (0 for any width):
// whole-width tiles then get loops of constant length.
template <class Simd, EpilogueActivation act, int64_t kFullCols>
void finish_rows_of(const float* acc, int64_t ld_acc, const TileWrite& out) {
  if (kFullCols > 0 && out.cols == kFullCols) return finish_rows<Simd, act, kFullCols>(acc, ld_acc, out);
  finish_rows<Simd, act, 0>(acc, ld_acc, out);
}

template <class Simd, int64_t kFullCols = 0>
void finish_tile(const float* acc, int64_t ld_acc, const TileWrite& out) {
  using A = EpilogueActivation;
  switch (out.activation) {
    case A::None: return finish_rows_of<Simd, A::None, kFullCols>(acc, ld_acc, out);
    case A::Relu: return finish_rows_of<Simd, A::Relu, kFullCols>(acc, ld_acc, out);
    case A::GeluErf: return finish_rows_of<Simd, A::GeluErf, kFullCols>(acc, ld_acc, out);
    case A::GeluTanh: return finish_rows_of<Simd, A::GeluTanh, kFullCols>(acc, ld_acc, out);
    case A::Silu: return finish_rows_of<Simd, A::Silu, kFullCols>(acc, ld_acc, out);
  }
}

}  // namespace ta::cpu::gemm

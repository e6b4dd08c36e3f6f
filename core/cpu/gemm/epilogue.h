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

// One step at a time over a row of the tile (NR values, in L1; the OpenBLAS path: a row of C), each
// step a loop the compiler vectorizes; the fields of `out` are read once into locals,
// since a store through c could otherwise alias them.
template <class Simd, EpilogueActivation act>
void finish_rows(const float* acc, int64_t ld_acc, const TileWrite& out) {
  const float alpha = out.alpha, beta = out.beta;
  const float* bias = out.bias;
  const int64_t cols = out.cols;
  for (int64_t i = 0; i < out.rows; ++i) {
    const float* x = acc + i * ld_acc;
    float* c = out.c + i * out.ldc;
    if (beta == 0.0f)
      for (int64_t j = 0; j < cols; ++j) c[j] = alpha * x[j];
    else
      for (int64_t j = 0; j < cols; ++j) c[j] = alpha * x[j] + beta * c[j];
    if (bias)
      for (int64_t j = 0; j < cols; ++j) c[j] += bias[j];
    if (out.pre) std::copy(c, c + cols, out.pre + i * out.ldc);
    if constexpr (act != EpilogueActivation::None)
      for (int64_t j = 0; j < cols; ++j) c[j] = epilogue_activation(act, c[j]);
  }
}

template <class Simd>
void finish_tile(const float* acc, int64_t ld_acc, const TileWrite& out) {
  switch (out.activation) {
    case EpilogueActivation::None: return finish_rows<Simd, EpilogueActivation::None>(acc, ld_acc, out);
    case EpilogueActivation::Relu: return finish_rows<Simd, EpilogueActivation::Relu>(acc, ld_acc, out);
    case EpilogueActivation::GeluErf: return finish_rows<Simd, EpilogueActivation::GeluErf>(acc, ld_acc, out);
    case EpilogueActivation::GeluTanh: return finish_rows<Simd, EpilogueActivation::GeluTanh>(acc, ld_acc, out);
    case EpilogueActivation::Silu: return finish_rows<Simd, EpilogueActivation::Silu>(acc, ld_acc, out);
  }
}

}  // namespace ta::cpu::gemm

// core/cpu/gemm/microkernel.h — what a micro-kernel is, and which ones this machine can run.
//
// A micro-kernel multiplies one packed sliver of A (MR rows) by one packed strip of B
// (NR columns) over a depth block, keeping the MR x NR tile of C in vector registers,
// and writes the tile through the epilogue (epilogue.h). It comes with the packing
// routines and the epilogue compiled for the same instruction set. Three are built:
// AVX-512 (12 x 32), AVX2 + FMA (6 x 16) and a portable one (4 x 8, plain C++ vectors);
// which of the first two the processor supports is asked of CPUID at run time, so the
// library picks the fastest one the machine has (dispatch.cpp).
#pragma once

#include <cstdint>
#include <vector>

#include "core/backend.h"

namespace ta::cpu::gemm {

// Where a finished tile goes and what happens to it on the way (epilogue.h): for each
// valid (i, j),  v = alpha tile[i][j] + beta c[i][j] (c not read when beta == 0),
// v += bias[j], pre[i][j] = v, c[i][j] = act(v)  (bias and pre optional).
struct TileWrite {
  float* c;             // C's element at the tile's top-left corner
  float* pre;           // the same element of the pre-activation output, or null
  int64_t ldc;          // leading dimension of C and of pre
  int64_t rows, cols;   // the valid part of the tile (edges of C are smaller than MR x NR)
  float alpha, beta;
  const float* bias;    // the bias of the tile's first column, or null
  EpilogueActivation activation;
};

// A matrix read as `width x depth` for packing: element (w, k) is data[w * ld + k] when
// the depth is contiguous, data[k * ld + w] when the width is. op(A) has width M,
// op(B)^T width N; both have depth K.
enum class Contiguous { Depth, Width };
struct StripSource {
  const float* data;
  int64_t ld;
  Contiguous contiguous;
};

struct MicroKernel {
  const char* name;
  int64_t mr, nr;
  // tile = sum over k < kc of a[k * mr + i] b[k * nr + j], then written per `out`.
  void (*multiply)(int64_t kc, const float* a, const float* b, const TileWrite& out);
  // Packs rows [w0, w0 + width) x depth [p0, p0 + kc) of `x` into strips of mr (pack_a)
  // or nr (pack_b) rows, each k-major (dst[k * strip + w]), zero past `width`.
  void (*pack_a)(const StripSource& x, int64_t w0, int64_t width, int64_t p0, int64_t kc, float* dst);
  void (*pack_b)(const StripSource& x, int64_t w0, int64_t width, int64_t p0, int64_t kc, float* dst);
  // The epilogue alone, reading the product from `acc` (leading dimension ld_acc; it may
  // be out.c itself): the fallback to OpenBLAS applies bias and activation with it.
  void (*finish)(const float* acc, int64_t ld_acc, const TileWrite& out);
};

// Defined by microkernel_<isa>.cpp: null when this build or this processor lacks the
// instruction set.
const MicroKernel* avx512_kernel();
const MicroKernel* avx2_kernel();
const MicroKernel& portable_kernel();

// Every micro-kernel this machine can run, fastest first; the first is the one used.
std::vector<const MicroKernel*> available_kernels();
const MicroKernel& best_kernel();

}  // namespace ta::cpu::gemm

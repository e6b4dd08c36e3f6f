// core/cpu/gemm/pack.h — copying blocks of A and B into the order the micro-kernel reads.
//
// The micro-kernel walks k and, at each k, wants the MR values of A's sliver and the NR
// values of B's strip next to each other. Packing copies a block into strips of W rows
// of the `width x depth` view (microkernel.h: op(A) by rows, op(B)^T by columns), each
// strip k-major:
//   dst[s * kc * W + k * W + w] = x(w0 + s * W + w, p0 + k),  zero for rows past `width`,
// so an edge tile's extra rows and columns are zeros, never written (the micro-kernel
// skips most of the extra rows: tile_kernel.h).
// Transposed operands cost nothing extra: the view says which index is contiguous.
//
// Include only from microkernel_<isa>.cpp, inside its target region; Simd makes each
// instruction set's copy its own function (see epilogue.h).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "core/cpu/gemm/microkernel.h"

namespace ta::cpu::gemm {

// dst[c * ld_dst + r] = src[r * ld_src + c] for r, c < 4: a 4 x 4 block transposed in
// registers (two rounds of shuffles on the compiler's generic 4-float vectors).
template <class Simd>
void transpose_4x4(const float* src, int64_t ld_src, float* dst, int64_t ld_dst) {
  using V4 = float __attribute__((vector_size(16)));
  V4 r[4];
  for (int i = 0; i < 4; ++i) std::memcpy(&r[i], src + i * ld_src, sizeof(V4));
  const V4 lo01 = __builtin_shufflevector(r[0], r[1], 0, 4, 1, 5), lo23 = __builtin_shufflevector(r[2], r[3], 0, 4, 1, 5);
  const V4 hi01 = __builtin_shufflevector(r[0], r[1], 2, 6, 3, 7), hi23 = __builtin_shufflevector(r[2], r[3], 2, 6, 3, 7);
  const V4 c[4] = {__builtin_shufflevector(lo01, lo23, 0, 1, 4, 5), __builtin_shufflevector(lo01, lo23, 2, 3, 6, 7),
                   __builtin_shufflevector(hi01, hi23, 0, 1, 4, 5), __builtin_shufflevector(hi01, hi23, 2, 3, 6, 7)};
  for (int i = 0; i < 4; ++i) std::memcpy(dst + i * ld_dst, &c[i], sizeof(V4));
}

template <class Simd, int W>
void pack_strips(const StripSource& x, int64_t w0, int64_t width, int64_t p0, int64_t kc, float* dst) {
  if (x.contiguous == Contiguous::Width) {
    // Row k of the block is `width` consecutive floats: read each once, front to back,
    // and deal it out to the strips (strip s starts at dst + s W kc). Going strip by strip
    // instead reads W floats from rows a whole matrix row apart, which the hardware
    // prefetcher does not follow and which fight over the same few L1 sets. Rows start a
    // matrix row apart too (a new page each, often), so the row 4 ahead is asked for.
    constexpr int64_t kAhead = 4;
    const int64_t full = width / W * W;
    for (int64_t k = 0; k < kc; ++k) {
      const float* src = x.data + (p0 + k) * x.ld + w0;
      if (k + kAhead < kc)
        for (int64_t w = 0; w < width; w += 16) __builtin_prefetch(src + kAhead * x.ld + w);
      for (int64_t s = 0; s < full; s += W)  // a copy of constant size: a few vector moves
        std::memcpy(dst + s * kc + k * W, src + s, W * sizeof(float));
      if (full == width) continue;
      float* edge = dst + full * kc + k * W;
      std::copy(src + full, src + width, edge);
      std::fill(edge + (width - full), edge + W, 0.0f);
    }
    return;
  }
  // A transpose: row w of the source holds the depth. Full strips go 4 x 4 blocks at a
  // time; the last few k, and strips cut short by the edge, one value at a time.
  for (int64_t s = 0; s < width; s += W, dst += kc * W) {
    const int64_t n = std::min<int64_t>(W, width - s);
    const float* src = x.data + (w0 + s) * x.ld + p0;
    int64_t k = 0;
    if (n == W && W % 4 == 0)
      for (; k + 4 <= kc; k += 4)
        for (int64_t w = 0; w < W; w += 4) transpose_4x4<Simd>(src + w * x.ld + k, x.ld, dst + k * W + w, W);
    for (; k < kc; ++k)
      for (int64_t w = 0; w < W; ++w) dst[k * W + w] = w < n ? src[w * x.ld + k] : 0.0f;
  }
}

}  // namespace ta::cpu::gemm

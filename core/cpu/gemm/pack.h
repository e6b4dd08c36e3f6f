// core/cpu/gemm/pack.h — copying blocks of A and B into the order the micro-kernel reads.
//
// The micro-kernel walks k and, at each k, wants the MR values of A's sliver and the NR
// values of B's strip next to each other. Packing copies a block into strips of W rows
// of the `width x depth` view (microkernel.h: op(A) by rows, op(B)^T by columns), each
// strip k-major:
//   dst[s * kc * W + k * W + w] = x(w0 + s * W + w, p0 + k),  zero for rows past `width`,
// so edge tiles are computed like full ones (their extra rows are zeros, never written).
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

template <class Simd, int W>
void pack_strips(const StripSource& x, int64_t w0, int64_t width, int64_t p0, int64_t kc, float* dst) {
  for (int64_t s = 0; s < width; s += W, dst += kc * W) {
    const int64_t n = std::min<int64_t>(W, width - s);
    if (x.contiguous == Contiguous::Width) {  // row k of the block is n consecutive floats
      const float* src = x.data + p0 * x.ld + w0 + s;
      for (int64_t k = 0; k < kc; ++k, src += x.ld) {
        std::memcpy(dst + k * W, src, n * sizeof(float));
        std::fill(dst + k * W + n, dst + k * W + W, 0.0f);
      }
    } else {  // a transpose: row w of the source holds the depth; 8 of its k at a time
      const float* src = x.data + (w0 + s) * x.ld + p0;
      int64_t k = 0;
      for (; k + 8 <= kc; k += 8)
        for (int64_t w = 0; w < W; ++w)
          for (int64_t kk = 0; kk < 8; ++kk) dst[(k + kk) * W + w] = w < n ? src[w * x.ld + k + kk] : 0.0f;
      for (; k < kc; ++k)
        for (int64_t w = 0; w < W; ++w) dst[k * W + w] = w < n ? src[w * x.ld + k] : 0.0f;
    }
  }
}

}  // namespace ta::cpu::gemm

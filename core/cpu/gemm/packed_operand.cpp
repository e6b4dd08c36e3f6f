// core/cpu/gemm/packed_operand.cpp — packing a factor once, multiplying packed factors.
#include "core/cpu/gemm/packed_operand.h"

#include <algorithm>

#include "core/cpu/gemm/dispatch.h"
#include "core/cpu/gemm/microkernel.h"
#include "core/error.h"

namespace ta::cpu {

// The left factor is read by rows (op(A) = A: each row holds the depth), the right one
// by columns (op(B) = B: each row of B holds part of every column), as driver.cpp reads
// them.
void PackedOperand::pack(Factor factor, Transpose t, int64_t width, int64_t depth, const float* x, int64_t ld) {
  const gemm::MicroKernel& kernel = gemm::best_kernel();
  const bool rows_hold_depth = (factor == Factor::Left) == (t == Transpose::No);
  const gemm::StripSource source{x, ld, rows_hold_depth ? gemm::Contiguous::Depth : gemm::Contiguous::Width};
  const int64_t strip = factor == Factor::Left ? kernel.mr : kernel.nr;
  data_.resize(static_cast<size_t>((width + strip - 1) / strip * strip * depth));
  factor_ = factor;
  width_ = width;
  depth_ = depth;
  if (width == 0 || depth == 0) return;
  (factor == Factor::Left ? kernel.pack_a : kernel.pack_b)(source, 0, width, 0, depth, data_.data());
}

// Strip i of a packed factor starts i strips of `depth` steps in; its first K steps are
// the leading block's.
void gemm_packed(int64_t M, int64_t N, int64_t K, float alpha, const PackedOperand& a, const PackedOperand& b,
                 float beta, float* C, int64_t ldc) {
  TA_CHECK(a.factor() == Factor::Left && b.factor() == Factor::Right && M <= a.width() && N <= b.width() &&
               K <= a.depth() && K <= b.depth(),
           "gemm_packed: expected a left factor of at least ", M, " x ", K, " and a right factor of at least ", K,
           " x ", N, ", got ", a.width(), " x ", a.depth(), " and ", b.depth(), " x ", b.width());
  const gemm::MicroKernel& kernel = gemm::best_kernel();
  const int64_t MR = kernel.mr, NR = kernel.nr;
  for (int64_t i = 0; i < M; i += MR)
    for (int64_t j = 0; j < N; j += NR)
      kernel.multiply(K, a.data() + i * a.depth(), b.data() + j * b.depth(),
                      gemm::TileWrite{C + i * ldc + j, nullptr, ldc, std::min(MR, M - i), std::min(NR, N - j), alpha,
                                      beta, nullptr, EpilogueActivation::None});
}

}  // namespace ta::cpu

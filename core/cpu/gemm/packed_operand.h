// core/cpu/gemm/packed_operand.h — a factor packed once and multiplied many times.
//
// gemm_tile (matmul.cpp) packs both of its operands on every call (pack.h). The fused
// attention kernels multiply the same key tile by every query tile, and the same query
// tile by every key tile: a 96 x 128 x 64 tile product is 0.8M multiply-adds, and
// packing its two operands moves 14K floats, a good part of the product's own time on
// this machine's AVX-512 kernel. So those kernels pack each tile once, where it is
// first used, and multiply packed factors (gemm_packed): a tile they compute (the
// probabilities P, the score gradients dS) is still packed once per product, a tile
// they only read is packed once per head or per key tile.
#pragma once

#include <cstdint>
#include <vector>

#include "core/backend.h"

namespace ta::cpu {

// Which factor of a product: the left one, op(A) (M x K, packed by strips of the
// micro-kernel's MR rows), or the right one, op(B) (K x N, by strips of NR columns).
enum class Factor { Left, Right };

// op(X) in the micro-kernel's order (pack.h), for the best micro-kernel of this
// machine. op(X) is `width x depth` for the left factor and `depth x width` for the
// right one; X is row-major with leading dimension ld, transposed or not (the
// convention of matmul.cpp). The buffer is kept and reused by the next pack().
class PackedOperand {
 public:
  void pack(Factor factor, Transpose t, int64_t width, int64_t depth, const float* x, int64_t ld);

  Factor factor() const { return factor_; }
  int64_t width() const { return width_; }
  int64_t depth() const { return depth_; }
  const float* data() const { return data_.data(); }

 private:
  std::vector<float> data_;
  Factor factor_ = Factor::Left;
  int64_t width_ = 0, depth_ = 0;
};

// C = alpha A B + beta C on the calling thread, from the leading M x K block of the
// left factor A and the leading K x N block of the right factor B (C is M x N, leading
// dimension ldc): the same micro-kernel calls, in the same order, as gemm_tile makes
// for a depth of at most one packed block (blocking.h's KC), so the same results.
void gemm_packed(int64_t M, int64_t N, int64_t K, float alpha, const PackedOperand& a, const PackedOperand& b,
                 float beta, float* C, int64_t ldc);

}  // namespace ta::cpu

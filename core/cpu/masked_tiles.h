// core/cpu/masked_tiles.h — how the fused attention kernels keep a NaN or inf away from
// the rows that may not see it (attention.cpp, block_sparse_attention.cpp, flash.cpp,
// performer.cpp).
//
// A kernel hides key j from query i with a weight of exactly 0 and then multiplies:
// out_i = sum_j w_ij v_j. In IEEE arithmetic 0 x NaN and 0 x inf are NaN, so a NaN or
// inf in a hidden key or value would still reach out_i. So a hidden pair is skipped,
// never multiplied by 0:
//   - a key hidden from every row of a tile (padding) is read as 0 (without_rows), or
//     the tile is skipped when all its keys are;
//   - the causal diagonal, where each row reads one key more than the row above it,
//     is a staircase product (staircase_gemm) that never reads past a row's last key;
//   - scores and their gradients at hidden pairs are set (to -inf, 0), not scaled.
// Backward passes add one rule: a query row whose output gradient is zero contributes
// nothing to any gradient (each of its terms is a multiple of its dO), so it is left
// out instead of multiplied through: its probabilities and score gradients are set to
// 0, its query is read as 0, its own gradient is 0. Its forward values may well be
// NaN: it is the row that sees the NaN, and whose output nobody asked about. The same
// goes for a running gradient state that is zero as a whole.
//
// What decides every choice is the mask and which gradients are zero, never the
// values, so a run with a NaN somewhere computes everything else with exactly the
// same operations, in the same order, as a run with a finite value there.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "core/cpu/cpu_backend.h"

namespace ta::cpu {

// Whether x[0 .. n) is all zero (either sign): early out at the first nonzero, so a
// row that is not zero costs about one read.
inline bool all_zero(const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    if (x[i] != 0.0f) return false;
  return true;
}

// Rows 0 .. count - 1 of x [*, width] with the rows where hide(r) is true set to 0:
// x itself when none is, else a copy in buf [count, width].
template <class Hide>
const float* without_rows(const float* x, int64_t count, int64_t width, float* buf, Hide hide) {
  int64_t first = 0;
  while (first < count && !hide(first)) ++first;
  if (first == count) return x;
  std::memcpy(buf, x, static_cast<size_t>(count * width) * sizeof(float));
  for (int64_t r = first; r < count; ++r)
    if (hide(r)) std::fill(buf + r * width, buf + (r + 1) * width, 0.0f);
  return buf;
}

// C[r, :] += alpha sum_{c < limit_r} A[r, c] B[c, :] for r < rows, with
// limit_r = clamp(first + r, 0, cols): row r reads a prefix of the columns one longer
// than the row above it, as query r of a causal diagonal tile reads the keys up to its
// own position (first = the keys row 0 sees). Columns past a row's limit are never
// read. Three kinds of GEMM, each column of B packed about once: the columns every row
// reads; the rest for the rows that read all of it; and the staircase between, in
// blocks of kStep rows (the columns all rows of a block read as one GEMM, the few
// after them row by row).
inline void staircase_gemm(int64_t rows, int64_t n, int64_t cols, int64_t first, float alpha, const float* A,
                           int64_t lda, const float* B, int64_t ldb, float* C, int64_t ldc) {
  constexpr int64_t kStep = 16;
  auto product = [&](int64_t r0, int64_t r1, int64_t c0, int64_t c1) {  // rows [r0, r1) x columns [c0, c1)
    if (r1 > r0 && c1 > c0)
      gemm_tile(Transpose::No, Transpose::No, r1 - r0, n, c1 - c0, alpha, A + r0 * lda + c0, lda, B + c0 * ldb, ldb,
                1.0f, C + r0 * ldc, ldc);
  };
  const int64_t all = std::clamp<int64_t>(first, 0, cols);            // the columns row 0 reads
  const int64_t stairs = std::clamp<int64_t>(cols - first, 0, rows);  // the rows before the first that reads all
  product(0, rows, 0, all);
  product(stairs, rows, all, cols);
  for (int64_t r0 = 0; r0 < stairs; r0 += kStep) {
    const int64_t block = std::min(kStep, stairs - r0), shared = std::clamp<int64_t>(first + r0, all, cols);
    product(r0, r0 + block, all, shared);
    for (int64_t r = r0; r < r0 + block; ++r) {
      float* out = C + r * ldc;
      for (int64_t c = shared; c < std::clamp<int64_t>(first + r, 0, cols); ++c) {
        const float a = alpha * A[r * lda + c];
        const float* b = B + c * ldb;
#pragma omp simd
        for (int64_t k = 0; k < n; ++k) out[k] += a * b[k];
      }
    }
  }
}

}  // namespace ta::cpu

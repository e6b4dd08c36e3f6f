// core/cpu/attention/masked_tiles.h — how the fused attention kernels keep a NaN or inf away from
// the rows that may not see it (dense.cpp, block_sparse.cpp, flash.cpp, performer.cpp).
//
// A kernel hides key j from query i with a weight of exactly 0 and then multiplies:
// out_i = sum_j w_ij v_j. In IEEE arithmetic 0 x NaN and 0 x inf are NaN, so a NaN or
// inf in a hidden key or value would still reach out_i. So a hidden pair is skipped,
// never multiplied by 0:
//   - a key hidden from every row of a tile (padding) is read as 0 (without_rows), or
//     the tile is skipped when all its keys are;
//   - a tile whose rows each read one interval of keys (the causal diagonal, where
//     each row reads one key more than the row above it; a window's edge) is a band
//     product (band_rows, band_gemm, staircase_gemm) that never reads outside a
//     row's interval;
//   - scores and their gradients at hidden pairs are set (to -inf, 0), not scaled;
//   - where the hidden pairs are scattered (block-sparse blocks), the product stays one
//     GEMM over keys and values whose rows holding a NaN or inf are read as 0, and the
//     rows that may see one of those are set to NaN after it.
// Backward passes add one rule: a query row whose output gradient is zero contributes
// nothing to any gradient (each of its terms is a multiple of its dO), so it is left
// out instead of multiplied through: its probabilities and score gradients are set to
// 0, its query is read as 0, its own gradient is 0. Its forward values may well be
// NaN: it is the row that sees the NaN, and whose output nobody asked about. The same
// goes for a running gradient state that is zero as a whole.
//
// What decides every choice is the mask and which gradients are zero, never the
// values (reading a non-finite row as 0 changes its values, not the operations), so a
// run with a NaN somewhere computes everything else with exactly the same operations,
// in the same order, as a run with a finite value there.
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

// Whether x[0 .. n) holds no NaN or inf: x * 0 is 0 for every finite x and NaN
// otherwise, so the sum of those is 0 exactly when all are finite.
inline bool all_finite(const float* x, int64_t n) {
  float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
  for (int64_t i = 0; i < n; ++i) sum += x[i] * 0.0f;
  return sum == 0.0f;
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

// Each row r of the tile x [rows, cols]: set to 0 where silent(r) (a row left out, see
// above), else handed to live(r, x + r * cols).
template <class Silent, class Live>
void for_live_rows(float* x, int64_t rows, int64_t cols, Silent silent, Live live) {
  for (int64_t r = 0; r < rows; ++r) {
    float* row = x + r * cols;
    if (silent(r))
      std::fill(row, row + cols, 0.0f);
    else
      live(r, row);
  }
}

// The columns [begin, end) one row of a band product reads.
struct ColumnSpan {
  int64_t begin, end;
};

// C[r, :] += alpha sum_{c in span(r)} A[r, c] B[c, :] for the rows r0 <= r < r1, where
// span(r) = [begin_r, end_r) is the interval of columns row r reads (may be empty):
// one multiply-add of a row of B per pair, the columns outside a row's interval never
// read for it. For a block of up to about 32 x 32 pairs this beats a GEMM call, which
// first packs its operands.
template <class Span>
void band_rows(int64_t r0, int64_t r1, int64_t n, float alpha, const float* A, int64_t lda, const float* B,
               int64_t ldb, float* C, int64_t ldc, const Span& span) {
  for (int64_t r = r0; r < r1; ++r) {
    float* out = C + r * ldc;
    const ColumnSpan s = span(r);
    for (int64_t c = s.begin; c < s.end; ++c) {
      const float a = alpha * A[r * lda + c];
      const float* b = B + c * ldb;
#pragma omp simd
      for (int64_t k = 0; k < n; ++k) out[k] += a * b[k];
    }
  }
}

// The same product for r < rows, mostly through GEMMs, for larger tiles: the columns
// every row of a range reads are one GEMM over the range, what is left of the rows'
// intervals on either side is done the same way for the two halves of the range, and
// so on down to ranges of kRowsByHand rows (band_rows). When the intervals move right
// with the row (a causal diagonal: [0, r + 1)) the GEMMs cover most of it. The order
// of every sum depends on the spans only, never on the values.
template <class Span>
void band_gemm(int64_t rows, int64_t n, float alpha, const float* A, int64_t lda, const float* B, int64_t ldb,
               float* C, int64_t ldc, const Span& span) {
  constexpr int64_t kRowsByHand = 8;
  // Rows [r0, r1), their intervals clipped to the columns [c0, c1).
  auto part = [&](auto& self, int64_t r0, int64_t r1, int64_t c0, int64_t c1) -> void {
    if (c1 <= c0 || r1 <= r0) return;
    auto clipped = [&](int64_t r) {
      const ColumnSpan s = span(r);
      return ColumnSpan{std::max(s.begin, c0), std::min(s.end, c1)};
    };
    if (r1 - r0 <= kRowsByHand) return band_rows(r0, r1, n, alpha, A, lda, B, ldb, C, ldc, clipped);
    ColumnSpan all{c0, c1};  // the columns every row reads
    for (int64_t r = r0; r < r1; ++r) {
      const ColumnSpan s = clipped(r);
      all = {std::max(all.begin, s.begin), std::min(all.end, s.end)};
    }
    if (all.begin < all.end) {
      gemm_tile(Transpose::No, Transpose::No, r1 - r0, n, all.end - all.begin, alpha, A + r0 * lda + all.begin, lda,
                B + all.begin * ldb, ldb, 1.0f, C + r0 * ldc, ldc);
      self(self, r0, r1, c0, all.begin);
      self(self, r0, r1, all.end, c1);
    } else {
      const int64_t mid = r0 + (r1 - r0) / 2;
      self(self, r0, mid, c0, c1);
      self(self, mid, r1, c0, c1);
    }
  };
  int64_t cols = 0;
  for (int64_t r = 0; r < rows; ++r) cols = std::max(cols, span(r).end);
  part(part, 0, rows, 0, cols);
}

// The band product where row r reads the columns c < clamp(first + r, 0, cols): a
// prefix one longer than the row above's, as query r of a causal diagonal tile reads
// the keys up to its own position (first = the keys row 0 sees).
inline void staircase_gemm(int64_t rows, int64_t n, int64_t cols, int64_t first, float alpha, const float* A,
                           int64_t lda, const float* B, int64_t ldb, float* C, int64_t ldc) {
  band_gemm(rows, n, alpha, A, lda, B, ldb, C, ldc,
            [&](int64_t r) { return ColumnSpan{0, std::clamp<int64_t>(first + r, 0, cols)}; });
}

}  // namespace ta::cpu

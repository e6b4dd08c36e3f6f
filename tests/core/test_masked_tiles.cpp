// The band products of the fused attention kernels (core/cpu/attention/masked_tiles.h: band_rows,
// band_gemm, staircase_gemm) against a plain double-precision loop: each row reads exactly its
// interval of columns. Every entry of A outside a row's interval, and every row of B
// no row reads, holds NaN: one read and the output would be NaN. Row counts below, at,
// just above and several times the size done row by row (8), up to a 64-row block;
// intervals shaped as a causal diagonal, a window's first block, a band and at random
// (empty ones too).
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "core/cpu/attention/masked_tiles.h"

using ta::cpu::band_gemm;
using ta::cpu::band_rows;
using ta::cpu::ColumnSpan;
using ta::cpu::staircase_gemm;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

struct Band {
  std::string shape;
  std::vector<ColumnSpan> spans;  // one per row, within [0, cols)
  int64_t cols;
};

Band make_band(const std::string& shape, int64_t rows, int64_t cols, std::mt19937& rng) {
  Band band{shape, std::vector<ColumnSpan>(rows), cols};
  for (int64_t r = 0; r < rows; ++r) {
    auto clamp = [&](int64_t c) { return std::clamp<int64_t>(c, 0, cols); };
    if (shape == "diagonal") band.spans[r] = {0, clamp(r + 1)};
    if (shape == "window edge") band.spans[r] = {clamp(r + 1), cols};
    if (shape == "band") band.spans[r] = {clamp(r - 3), clamp(r + 5)};
    if (shape == "random") {
      const int64_t a = static_cast<int64_t>(rng() % (cols + 1)), b = static_cast<int64_t>(rng() % (cols + 1));
      band.spans[r] = {std::min(a, b), std::max(a, b)};
    }
  }
  return band;
}

// C [rows, n] after C += alpha A B over each row's interval, by band_gemm (or the
// given product), with A [rows, cols] and B [cols, n] NaN wherever they must not be
// read; and the same in double by a plain loop.
void check_band(const Band& band, int64_t n, const std::function<void(const float*, const float*, float*)>& product) {
  const int64_t rows = static_cast<int64_t>(band.spans.size()), cols = band.cols;
  std::mt19937 rng(static_cast<uint32_t>(rows * 1000 + n * 10 + cols));
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> A(rows * cols, kNaN), B(cols * n, kNaN), C(rows * n);
  std::vector<bool> read(cols, false);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = band.spans[r].begin; c < band.spans[r].end; ++c) {
      A[r * cols + c] = uniform(rng);
      read[c] = true;
    }
  for (int64_t c = 0; c < cols; ++c)
    for (int64_t k = 0; k < n && read[c]; ++k) B[c * n + k] = uniform(rng);
  for (float& x : C) x = uniform(rng);
  const std::vector<float> before = C;
  product(A.data(), B.data(), C.data());
  constexpr double kAlpha = 0.75;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t k = 0; k < n; ++k) {
      double want = before[r * n + k];
      for (int64_t c = band.spans[r].begin; c < band.spans[r].end; ++c)
        want += kAlpha * static_cast<double>(A[r * cols + c]) * B[c * n + k];
      CAPTURE(r);
      CAPTURE(k);
      REQUIRE(std::abs(C[r * n + k] - want) <= 1e-5 * (1.0 + std::abs(want)));
    }
}

}  // namespace

TEST_CASE("band_gemm, band_rows: each row reads its interval of columns and nothing else") {
  std::mt19937 rng(7);
  for (const std::string shape : {"diagonal", "window edge", "band", "random"})
    for (int64_t rows : {1, 7, 8, 9, 16, 33, 64})
      for (int64_t cols : {1, 8, 9, 64, 70})
        for (int64_t n : {1, 5, 64}) {
          CAPTURE(shape);
          CAPTURE(rows);
          CAPTURE(cols);
          CAPTURE(n);
          const Band band = make_band(shape, rows, cols, rng);
          const auto span = [&](int64_t r) { return band.spans[r]; };
          check_band(band, n, [&](const float* A, const float* B, float* C) {
            band_gemm(rows, n, 0.75f, A, cols, B, n, C, n, span);
          });
          check_band(band, n, [&](const float* A, const float* B, float* C) {
            band_rows(0, rows, n, 0.75f, A, cols, B, n, C, n, span);
          });
        }
}

TEST_CASE("staircase_gemm: row r reads the columns before first + r, whatever first is") {
  for (int64_t rows : {1, 8, 9, 40, 64})
    for (int64_t cols : {1, 9, 64, 70})
      for (int64_t first : {-3, 0, 1, 5, 64, 80}) {
        CAPTURE(rows);
        CAPTURE(cols);
        CAPTURE(first);
        Band band{"staircase", std::vector<ColumnSpan>(rows), cols};
        for (int64_t r = 0; r < rows; ++r) band.spans[r] = {0, std::clamp<int64_t>(first + r, 0, cols)};
        check_band(band, 5, [&](const float* A, const float* B, float* C) {
          staircase_gemm(rows, 5, cols, first, 0.75f, A, cols, B, 5, C, 5);
        });
      }
}

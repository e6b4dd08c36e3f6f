// tests/core/gemm_testing.h — products checked against OpenBLAS, for the tests of the
// project's GEMM (test_gemm.cpp) and of factors packed once (test_packed_operand.cpp).
//
// Tolerance: OpenBLAS and ours sum in different orders, so they agree to rounding,
// relative to the size of the terms summed: |ours - ref| <= 2e-6 mag, with
// mag = |alpha| |op(A)| |op(B)| + |beta C| (itself computed by OpenBLAS). A wrong index
// or a missed edge is off by whole terms, far above that.
#pragma once

#include <cblas.h>
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "core/backend.h"
#include "core/cpu/cpu_backend.h"
#include "core/error.h"

namespace gemm_testing {

using ta::Transpose;

inline constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
inline constexpr float kSentinel = 1234.5f;  // fills the gaps between rows that no one may write

inline constexpr Transpose kTransposes[] = {Transpose::No, Transpose::Yes};

inline std::vector<float> random_values(int64_t n, uint64_t seed) {
  std::vector<float> v(n);
  ta::cpu::CpuBackend().random_normal(v.data(), n, seed, 0, 0.0f, 1.0f);
  return v;
}

inline CBLAS_TRANSPOSE cblas_op(Transpose t) { return t == Transpose::Yes ? CblasTrans : CblasNoTrans; }

// One product with its operands and a reference; the leading dimensions are wider than
// the matrices by `pad`, and C's gaps hold kSentinel. With `extra`, A and B are stored
// larger by that many rows and columns, and the product is their leading block.
struct Case {
  Transpose ta, tb;
  int64_t M, N, K;
  float alpha = 1.0f, beta = 0.0f;
  int64_t pad = 0;
  uint64_t seed = 1;
  int64_t extra = 0;

  int64_t a_rows() const { return (ta == Transpose::Yes ? K : M) + extra; }
  int64_t a_cols() const { return (ta == Transpose::Yes ? M : K) + extra; }
  int64_t b_rows() const { return (tb == Transpose::Yes ? N : K) + extra; }
  int64_t b_cols() const { return (tb == Transpose::Yes ? K : N) + extra; }
  int64_t lda() const { return a_cols() + pad; }
  int64_t ldb() const { return b_cols() + pad; }
  int64_t ldc() const { return N + pad; }
};

struct Data {
  std::vector<float> A, B, C0;  // C0: C before the product (NaN when beta == 0)
};

inline Data make_data(const Case& c) {
  Data d{random_values(c.a_rows() * c.lda(), c.seed), random_values(c.b_rows() * c.ldb(), c.seed + 1),
         std::vector<float>(c.M * c.ldc(), kSentinel)};
  const std::vector<float> c_values = random_values(c.M * c.N, c.seed + 2);
  for (int64_t i = 0; i < c.M; ++i)
    for (int64_t j = 0; j < c.N; ++j) d.C0[i * c.ldc() + j] = c.beta == 0.0f ? kNaN : c_values[i * c.N + j];
  return d;
}

inline std::vector<float> openblas_product(const Case& c, const std::vector<float>& A, const std::vector<float>& B,
                                    std::vector<float> C, float alpha, float beta) {
  if (c.K == 0) {
    for (int64_t i = 0; i < c.M; ++i)
      for (int64_t j = 0; j < c.N; ++j) C[i * c.ldc() + j] = beta == 0.0f ? 0.0f : beta * C[i * c.ldc() + j];
    return C;
  }
  cblas_sgemm(CblasRowMajor, cblas_op(c.ta), cblas_op(c.tb), c.M, c.N, c.K, alpha, A.data(), c.lda(), B.data(),
              c.ldb(), beta, C.data(), c.ldc());
  return C;
}

inline std::vector<float> absolute(std::vector<float> v) {
  for (float& x : v) x = std::fabs(x);
  return v;
}

// ours[i, j] against ref[i, j] for every element, within 2e-6 of its magnitude; the gaps
// past column N untouched. Stops at the first failure (one message, not a million).
inline void check_close(const Case& c, const Data& d, const std::vector<float>& ours, const std::vector<float>& ref) {
  std::vector<float> c0_abs = absolute(d.C0);
  for (float& x : c0_abs) x = std::isnan(x) ? 0.0f : x;
  const std::vector<float> mag =
      openblas_product(c, absolute(d.A), absolute(d.B), c0_abs, std::fabs(c.alpha), std::fabs(c.beta));
  for (int64_t i = 0; i < c.M; ++i)
    for (int64_t j = 0; j < c.ldc(); ++j) {
      const int64_t at = i * c.ldc() + j;
      const bool ok = j < c.N ? std::fabs(ours[at] - ref[at]) <= 2e-6f * mag[at] + 1e-30f : ours[at] == kSentinel;
      if (!ok) {
        CAPTURE(i);
        CAPTURE(j);
        CAPTURE(ours[at]);
        CAPTURE(ref[at]);
        CAPTURE(mag[at]);
        REQUIRE(ok);
      }
    }
}

inline std::string describe(const Case& c) {
  return ta::cat(c.ta == Transpose::Yes ? "T" : "N", c.tb == Transpose::Yes ? "T" : "N", " M=", c.M, " N=", c.N,
                 " K=", c.K, " alpha=", c.alpha, " beta=", c.beta, " pad=", c.pad);
}

}  // namespace gemm_testing

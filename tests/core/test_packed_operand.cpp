// tests/core/test_packed_operand.cpp — factors packed once (core/cpu/gemm/packed_operand.h)
// against OpenBLAS and against the tile GEMM they stand in for.
//
// Every transpose of either factor, sizes below, at, just above and several times the
// micro-kernel's MR and NR (and the attention tiles, 64 and 128), leading blocks smaller
// than what was packed (the causal diagonal uses them), alpha and beta, a C wider than
// the product whose gaps must stay untouched. Within a packed block's depth (KC) the
// result equals gemm_tile's exactly: the same micro-kernel calls in the same order.
#include <cblas.h>
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "core/cpu/cpu_backend.h"
#include "core/cpu/gemm/blocking.h"
#include "core/cpu/gemm/dispatch.h"
#include "core/cpu/gemm/microkernel.h"
#include "core/cpu/gemm/packed_operand.h"
#include "core/error.h"

using ta::Transpose;
using ta::cpu::Factor;
using ta::cpu::PackedOperand;

namespace {

constexpr float kSentinel = 1234.5f;

std::vector<float> random_values(int64_t n, uint64_t seed) {
  std::vector<float> v(n);
  ta::cpu::CpuBackend().random_normal(v.data(), n, seed, 0, 0.0f, 1.0f);
  return v;
}

CBLAS_TRANSPOSE blas(Transpose t) { return t == Transpose::Yes ? CblasTrans : CblasNoTrans; }

// op(A) is M x K of a packed width x depth >= M x K (and op(B) K x N of depth x width);
// A and B hold the packed extents, C is M x N inside rows of ldc = N + 3.
void check_product(Transpose ta, Transpose tb, int64_t M, int64_t N, int64_t K, int64_t extra, float alpha,
                   float beta) {
  const int64_t PM = M + extra, PN = N + extra, PK = K + extra, ldc = N + 3;
  const int64_t lda = ta == Transpose::No ? PK : PM, ldb = tb == Transpose::No ? PN : PK;
  const std::vector<float> A = random_values(PM * PK, 1 + M), B = random_values(PK * PN, 2 + N);
  std::vector<float> C(M * ldc, kSentinel);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) C[i * ldc + j] = std::sin(static_cast<float>(i * 7 + j));
  std::vector<float> ours = C, tile = C, ref = C, magnitude(M * ldc, 0.0f);
  PackedOperand a, b;
  a.pack(Factor::Left, ta, PM, PK, A.data(), lda);
  b.pack(Factor::Right, tb, PN, PK, B.data(), ldb);
  ta::cpu::gemm_packed(M, N, K, alpha, a, b, beta, ours.data(), ldc);
  ta::cpu::gemm_tile(ta, tb, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, tile.data(), ldc);
  cblas_sgemm(CblasRowMajor, blas(ta), blas(tb), M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, ref.data(), ldc);
  // |alpha| |op(A)| |op(B)| + |beta C|: the size of the terms summed (OpenBLAS sums in another order).
  std::vector<float> abs_a(A.size()), abs_b(B.size());
  for (size_t i = 0; i < A.size(); ++i) abs_a[i] = std::fabs(A[i]);
  for (size_t i = 0; i < B.size(); ++i) abs_b[i] = std::fabs(B[i]);
  cblas_sgemm(CblasRowMajor, blas(ta), blas(tb), M, N, K, std::fabs(alpha), abs_a.data(), lda, abs_b.data(), ldb,
              0.0f, magnitude.data(), ldc);
  const bool same_calls = ta::cpu::gemm::engine_for(M, N, K) == ta::cpu::gemm::GemmEngine::Own &&
                          K <= ta::cpu::gemm::Blocking{}.kc && M <= ta::cpu::gemm::Blocking{}.mc;
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < ldc; ++j) {
      const int64_t at = i * ldc + j;
      if (j >= N) {
        REQUIRE(ours[at] == kSentinel);  // the gap between rows of C is never written
        continue;
      }
      const float mag = magnitude[at] + std::fabs(beta * C[at]);
      REQUIRE(std::fabs(ours[at] - ref[at]) <= 2e-6f * mag + 1e-30f);
      if (same_calls) REQUIRE(ours[at] == tile[at]);
    }
}

}  // namespace

TEST_CASE("gemm_packed: every transpose, sizes around MR, NR and the attention tiles, leading blocks, alpha, beta") {
  const ta::cpu::gemm::MicroKernel& kernel = ta::cpu::gemm::best_kernel();
  const int64_t mr = kernel.mr, nr = kernel.nr;
  for (Transpose ta : {Transpose::No, Transpose::Yes})
    for (Transpose tb : {Transpose::No, Transpose::Yes})
      for (int64_t M : {int64_t{1}, mr - 1, mr, mr + 1, int64_t{64}, 5 * mr + 7})
        for (int64_t N : {int64_t{1}, nr - 1, nr, nr + 1, int64_t{64}, int64_t{128}})
          for (int64_t K : {int64_t{1}, int64_t{17}, int64_t{64}, int64_t{128}, int64_t{300}}) {
            CAPTURE(ta == Transpose::Yes);
            CAPTURE(tb == Transpose::Yes);
            CAPTURE(M);
            CAPTURE(N);
            CAPTURE(K);
            check_product(ta, tb, M, N, K, 0, 1.0f, 0.0f);
            check_product(ta, tb, M, N, K, 5, 0.125f, 1.0f);  // leading blocks of larger packed factors
            check_product(ta, tb, M, N, K, 13, -0.7f, 0.5f);
          }
}

TEST_CASE("gemm_packed: factors on the wrong side or too small are errors naming the op") {
  const std::vector<float> x = random_values(64 * 64, 3);
  PackedOperand a, b;
  a.pack(Factor::Left, Transpose::No, 16, 32, x.data(), 32);
  b.pack(Factor::Right, Transpose::No, 16, 32, x.data(), 16);
  std::vector<float> c(64 * 64);
  CHECK_THROWS_WITH_AS(ta::cpu::gemm_packed(16, 16, 32, 1.0f, b, a, 0.0f, c.data(), 16),
                       doctest::Contains("gemm_packed"), ta::Error);
  CHECK_THROWS_WITH_AS(ta::cpu::gemm_packed(17, 16, 32, 1.0f, a, b, 0.0f, c.data(), 16),
                       doctest::Contains("gemm_packed"), ta::Error);
  CHECK_THROWS_WITH_AS(ta::cpu::gemm_packed(16, 16, 33, 1.0f, a, b, 0.0f, c.data(), 16),
                       doctest::Contains("gemm_packed"), ta::Error);
}

// tests/core/test_packed_operand.cpp — factors packed once (core/cpu/gemm/packed_operand.h)
// against OpenBLAS and against the tile GEMM they stand in for.
//
// Every transpose of either factor, sizes below, at, just above and several times the
// micro-kernel's MR and NR (and the attention tiles, 64 and 128), leading blocks smaller
// than what was packed (the causal diagonal uses them), alpha and beta, a C wider than
// the product whose gaps must stay untouched (the cases and the tolerance of
// gemm_testing.h). Within a packed block's depth (KC) the result equals gemm_tile's
// exactly: the same micro-kernel calls in the same order.
#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "core/cpu/cpu_backend.h"
#include "core/cpu/gemm/blocking.h"
#include "core/cpu/gemm/dispatch.h"
#include "core/cpu/gemm/microkernel.h"
#include "core/cpu/gemm/packed_operand.h"
#include "core/error.h"
#include "tests/core/gemm_testing.h"

using ta::Transpose;
using ta::cpu::Factor;
using ta::cpu::PackedOperand;
using namespace gemm_testing;

namespace {

// The leading M x K block of op(A), packed as stored (M + extra by K + extra), times the
// leading K x N block of op(B).
void check_product(const Case& c) {
  CAPTURE(describe(c));
  CAPTURE(c.extra);
  const Data d = make_data(c);
  PackedOperand a, b;
  a.pack(Factor::Left, c.ta, c.M + c.extra, c.K + c.extra, d.A.data(), c.lda());
  b.pack(Factor::Right, c.tb, c.N + c.extra, c.K + c.extra, d.B.data(), c.ldb());
  std::vector<float> ours = d.C0, tile = d.C0;
  ta::cpu::gemm_packed(c.M, c.N, c.K, c.alpha, a, b, c.beta, ours.data(), c.ldc());
  check_close(c, d, ours, openblas_product(c, d.A, d.B, d.C0, c.alpha, c.beta));
  const ta::cpu::gemm::Blocking blocking;
  if (ta::cpu::gemm::engine_for(c.M, c.N, c.K) != ta::cpu::gemm::GemmEngine::Own || c.K > blocking.kc ||
      c.M > blocking.mc)
    return;
  ta::cpu::gemm_tile(c.ta, c.tb, c.M, c.N, c.K, c.alpha, d.A.data(), c.lda(), d.B.data(), c.ldb(), c.beta,
                     tile.data(), c.ldc());
  for (int64_t i = 0; i < c.M; ++i)
    for (int64_t j = 0; j < c.N; ++j) REQUIRE(ours[i * c.ldc() + j] == tile[i * c.ldc() + j]);
}

}  // namespace

TEST_CASE("gemm_packed: every transpose, sizes around MR, NR and the attention tiles, leading blocks, alpha, beta") {
  const ta::cpu::gemm::MicroKernel& kernel = ta::cpu::gemm::best_kernel();
  const int64_t mr = kernel.mr, nr = kernel.nr;
  for (Transpose ta : kTransposes)
    for (Transpose tb : kTransposes)
      for (int64_t M : {int64_t{1}, mr - 1, mr, mr + 1, int64_t{64}, 5 * mr + 7})
        for (int64_t N : {int64_t{1}, nr - 1, nr, nr + 1, int64_t{64}, int64_t{128}})
          for (int64_t K : {int64_t{1}, int64_t{17}, int64_t{64}, int64_t{128}, int64_t{300}}) {
            check_product(Case{ta, tb, M, N, K, 1.0f, 0.0f, 3, 1, 0});
            check_product(Case{ta, tb, M, N, K, 0.125f, 1.0f, 3, 2, 5});  // leading blocks of larger factors
            check_product(Case{ta, tb, M, N, K, -0.7f, 0.5f, 3, 3, 13});
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

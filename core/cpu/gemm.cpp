// The one GEMM wrapper of the CPU backend: OpenBLAS cblas_sgemm.
//
// Convention, stated once: every matrix is row-major, as the tensors are. A matrix
// with R rows and C columns stored row-major has leading dimension C (the distance
// between the starts of two rows). op(A) is M x K: A itself is M x K (lda = K), or
// K x M when transposed (lda = M). op(B) is K x N: B is K x N (ldb = N), or N x K
// when transposed (ldb = K). C is M x N (ldc = N). cblas takes row-major directly
// (CblasRowMajor), so no operand is ever copied to change its layout.
#include <cblas.h>

#include "core/cpu/cpu_backend.h"

namespace ta::cpu {

void CpuBackend::gemm(Transpose ta, Transpose tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                      int64_t stride_a, const float* B, int64_t stride_b, float beta, float* C, int64_t stride_c,
                      int64_t batch) {
  if (M == 0 || N == 0) return;
  const bool trans_a = ta == Transpose::Yes, trans_b = tb == Transpose::Yes;
  const int64_t lda = trans_a ? M : K, ldb = trans_b ? K : N, ldc = N;
  for (int64_t b = 0; b < batch; ++b) {
    float* c = C + b * stride_c;
    if (K == 0) {  // an empty sum: C = beta C
      for (int64_t i = 0; i < M * N; ++i) c[i] = beta == 0.0f ? 0.0f : beta * c[i];
      continue;
    }
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
                static_cast<blasint>(M), static_cast<blasint>(N), static_cast<blasint>(K), alpha, A + b * stride_a,
                static_cast<blasint>(lda), B + b * stride_b, static_cast<blasint>(ldb), beta, c,
                static_cast<blasint>(ldc));
  }
}

// Called from inside an OpenMP parallel region, the OpenMP build of OpenBLAS runs on
// the calling thread only, so tiles computed in parallel never oversubscribe.
void gemm_tile(Transpose ta, Transpose tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
               const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, ta == Transpose::Yes ? CblasTrans : CblasNoTrans,
              tb == Transpose::Yes ? CblasTrans : CblasNoTrans, static_cast<blasint>(M), static_cast<blasint>(N),
              static_cast<blasint>(K), alpha, A, static_cast<blasint>(lda), B, static_cast<blasint>(ldb), beta, C,
              static_cast<blasint>(ldc));
}

}  // namespace ta::cpu

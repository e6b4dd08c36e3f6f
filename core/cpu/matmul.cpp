// The GEMM entry points of the CPU backend: the project's own packed GEMM
// (core/cpu/gemm/, blocking.h explains it), with OpenBLAS's cblas_sgemm as the
// reference it is tested against and the fallback where it measured faster
// (gemm/dispatch.cpp; TA_GEMM=own|openblas forces either).
//
// Convention, stated once: every matrix is row-major, as the tensors are. A matrix
// with R rows and C columns stored row-major has leading dimension C (the distance
// between the starts of two rows). op(A) is M x K: A itself is M x K (lda = K), or
// K x M when transposed (lda = M). op(B) is K x N: B is K x N (ldb = N), or N x K
// when transposed (ldb = K). C is M x N (ldc = N). Transposed operands are read in
// place (packing reads either layout), so no operand is ever copied to change it.
#include "core/cpu/cpu_backend.h"
#include "core/cpu/gemm/dispatch.h"
#include "core/cpu/gemm/openblas.h"
#include "core/cpu/gemm/threading.h"

namespace ta::cpu {

namespace {

void run_gemm(Transpose ta, Transpose tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
              int64_t stride_a, const float* B, int64_t stride_b, float beta, float* C, int64_t stride_c,
              int64_t batch, const GemmEpilogue& epilogue) {
  if (M == 0 || N == 0 || batch == 0) return;
  const gemm::Product p{ta,
                        tb,
                        M,
                        N,
                        K,
                        alpha,
                        A,
                        ta == Transpose::Yes ? M : K,
                        B,
                        tb == Transpose::Yes ? K : N,
                        beta,
                        C,
                        N,
                        epilogue};
  const gemm::Batch b{batch, stride_a, stride_b, stride_c};
  // An empty product (K = 0 or alpha = 0) is only C = beta C + epilogue: ours does it.
  if (K > 0 && alpha != 0.0f && gemm::engine_for(M, N, K) == gemm::GemmEngine::OpenBlas)
    gemm::openblas_multiply_batch(p, b);
  else
    gemm::multiply_batch(gemm::best_kernel(), p, b, gemm::threads_for(M, N, K, batch));
}

}  // namespace

void CpuBackend::gemm(Transpose ta, Transpose tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                      int64_t stride_a, const float* B, int64_t stride_b, float beta, float* C, int64_t stride_c,
                      int64_t batch) {
  run_gemm(ta, tb, M, N, K, alpha, A, stride_a, B, stride_b, beta, C, stride_c, batch, GemmEpilogue{});
}

void CpuBackend::gemm_epilogue(Transpose ta, Transpose tb, int64_t M, int64_t N, int64_t K, float alpha,
                               const float* A, int64_t stride_a, const float* B, int64_t stride_b, float beta,
                               float* C, int64_t stride_c, int64_t batch, const GemmEpilogue& epilogue) {
  run_gemm(ta, tb, M, N, K, alpha, A, stride_a, B, stride_b, beta, C, stride_c, batch, epilogue);
}

// On the calling thread only, whichever engine runs it: the fused attention kernels call
// this from inside their own parallel regions.
void gemm_tile(Transpose ta, Transpose tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
               const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (M == 0 || N == 0) return;
  const gemm::Product p{ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, GemmEpilogue{}};
  if (K > 0 && alpha != 0.0f && gemm::engine_for(M, N, K) == gemm::GemmEngine::OpenBlas)
    gemm::openblas_multiply_batch(p, gemm::Batch{1, 0, 0, 0});  // in a parallel region: this thread only
  else
    gemm::multiply(gemm::best_kernel(), p);
}

}  // namespace ta::cpu

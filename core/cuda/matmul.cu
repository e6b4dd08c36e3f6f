// core/cuda/matmul.cu — matrix products on the GPU: the one GEMM wrapper of the CUDA
// backend (cuBLAS), and gemm_epilogue (cuBLAS's product, then the epilogue kernel of
// kernels/matmul.cuh).
//
// Convention, stated once: the tensors are row-major, with the leading dimensions
// of core/cpu/matmul.cpp (op(A) M x K, op(B) K x N, C M x N; lda = K or M, ldb = N or
// K, ldc = N). cuBLAS is column-major, and a row-major R x C matrix read
// column-major is its C x R transpose with the same leading dimension. So we ask
// cuBLAS for C^T = op(B)^T op(A)^T: operands swapped, M and N swapped, each
// operand's transpose flag and leading dimension unchanged. No operand is copied.
//
// cuBLAS computes in FP32 here (its default math mode uses no TF32), so results
// agree with the CPU's to float rounding.
#include <climits>

#include "core/cuda/check.h"
#include "core/cuda/cuda_backend.h"
#include "core/cuda/kernels/matmul.cuh"
#include "core/cuda/launch.h"

namespace ta::cuda {

namespace {

cublasHandle_t cublas() {
  static cublasHandle_t handle = [] {
    cublasHandle_t h;
    TA_CUBLAS_CHECK(cublasCreate(&h));
    return h;
  }();
  return handle;
}

int as_int(int64_t v, const char* what) {
  TA_CHECK(v <= INT_MAX, "gemm: ", what, " = ", v, " exceeds cuBLAS's 32-bit sizes");
  return static_cast<int>(v);
}

}  // namespace

void CudaBackend::gemm(Transpose ta, Transpose tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                       int64_t stride_a, const float* B, int64_t stride_b, float beta, float* C, int64_t stride_c,
                       int64_t batch) {
  if (M == 0 || N == 0 || batch == 0) return;
  if (K == 0) {  // an empty sum: C = beta C (cuBLAS rejects a leading dimension of 0)
    for (int64_t b = 0; b < batch; ++b) {
      float* c = C + b * stride_c;
      if (beta == 0.0f)
        fill(c, M * N, 0.0f);
      else
        unary(UnaryOp::MulScalar, c, c, M * N, beta);
    }
    return;
  }
  const bool trans_a = ta == Transpose::Yes, trans_b = tb == Transpose::Yes;
  const int lda = as_int(trans_a ? M : K, "lda"), ldb = as_int(trans_b ? K : N, "ldb"), ldc = as_int(N, "ldc");
  const cublasOperation_t op_a = trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, op_b = trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  const int m = as_int(M, "M"), n = as_int(N, "N"), k = as_int(K, "K");
  if (batch == 1) {
    TA_CUBLAS_CHECK(cublasSgemm(cublas(), op_b, op_a, n, m, k, &alpha, B, ldb, A, lda, &beta, C, ldc));
    return;
  }
  TA_CUBLAS_CHECK(cublasSgemmStridedBatched(cublas(), op_b, op_a, n, m, k, &alpha, B, ldb, stride_b, A, lda, stride_a,
                                            &beta, C, ldc, stride_c, as_int(batch, "batch")));
}

// cuBLAS's product, then the epilogue in one pass over C (kernels/matmul.cuh).
void CudaBackend::gemm_epilogue(Transpose ta, Transpose tb, int64_t M, int64_t N, int64_t K, float alpha,
                                const float* A, int64_t stride_a, const float* B, int64_t stride_b, float beta,
                                float* C, int64_t stride_c, int64_t batch, const GemmEpilogue& epilogue) {
  gemm(ta, tb, M, N, K, alpha, A, stride_a, B, stride_b, beta, C, stride_c, batch);
  if (M == 0 || N == 0 || batch == 0) return;
  if (epilogue.bias || epilogue.pre_activation || epilogue.activation != EpilogueActivation::None)
    cuda_kernels::gemm_epilogue(Launcher{}, C, M, N, stride_c, batch, epilogue);
}

}  // namespace ta::cuda

// core/cpu/gemm/openblas.cpp — products by OpenBLAS's cblas_sgemm.
//
// cblas takes row-major operands directly (CblasRowMajor) with the leading dimensions
// of core/cpu/matmul.cpp, so nothing is copied.
#include "core/cpu/gemm/openblas.h"

#include <cblas.h>

namespace ta::cpu::gemm {

void openblas_multiply_batch(const Product& first, const Batch& batch) {
  const GemmEpilogue& e = first.epilogue;
  const bool has_epilogue = e.bias || e.pre_activation || e.activation != EpilogueActivation::None;
  for (int64_t b = 0; b < batch.count; ++b) {
    float* c = first.C + b * batch.stride_c;
    cblas_sgemm(CblasRowMajor, first.ta == Transpose::Yes ? CblasTrans : CblasNoTrans,
                first.tb == Transpose::Yes ? CblasTrans : CblasNoTrans, static_cast<blasint>(first.M),
                static_cast<blasint>(first.N), static_cast<blasint>(first.K), first.alpha,
                first.A + b * batch.stride_a, static_cast<blasint>(first.lda), first.B + b * batch.stride_b,
                static_cast<blasint>(first.ldb), first.beta, c, static_cast<blasint>(first.ldc));
    if (!has_epilogue) continue;
    // C now holds alpha op(A) op(B) + beta C: the epilogue reads it as its tile.
    const TileWrite out{c,
                        e.pre_activation ? e.pre_activation + b * batch.stride_c : nullptr,
                        first.ldc,
                        first.M,
                        first.N,
                        1.0f,
                        0.0f,
                        e.bias,
                        e.activation};
    best_kernel().finish(c, first.ldc, out);
  }
}

}  // namespace ta::cpu::gemm

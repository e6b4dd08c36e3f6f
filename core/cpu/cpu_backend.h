// core/cpu/cpu_backend.h — the CPU implementation of the operations in core/backend_ops.h.
//
// One file per concern (core/README.md): elementwise.cpp, reduce.cpp (reductions,
// softmax, cumulative sums), norm.cpp, matmul.cpp (the project's GEMM in gemm/,
// OpenBLAS as reference and fallback), index.cpp, movement.cpp, loss.cpp, optim.cpp,
// cpu_backend.cpp (memory, creation, random numbers), and the papers' fused attention
// in attention/ (dense.cpp, block_sparse.cpp, flash.cpp, performer.cpp).
#pragma once

#include "core/backend.h"

namespace ta::cpu {

// One GEMM on row-major tiles (the convention of matmul.cpp), C = alpha op(A) op(B) + beta C
// with leading dimensions of the caller's choosing, always on the calling thread: for
// kernels that call it from inside their own parallel loops.
void gemm_tile(Transpose ta, Transpose tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
               const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

class CpuBackend : public Backend {
 public:
  Device device() const override { return Device::CPU; }

#define TA_BACKEND_OP(kind, ret, name, params, args) ret name params override;
#include "core/backend_ops.h"
#undef TA_BACKEND_OP
};

}  // namespace ta::cpu

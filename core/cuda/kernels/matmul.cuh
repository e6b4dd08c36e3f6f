// core/cuda/kernels/matmul.cuh — the epilogue of Backend::gemm_epilogue on the GPU.
//
// cuBLAS has no bias or activation of its own here, so the GPU does the product with
// cuBLAS (core/cuda/matmul.cu) and then one pass over C, one thread per element:
//   v = C[b, i, j] + bias[j];  pre[b, i, j] = v;  C[b, i, j] = act(v)
// with element (b, i, j) at b stride_c + i N + j (the formula: core/epilogue_math.h).
// The CPU fuses this into its GEMM's tile writer; here it is one extra pass.
#pragma once

#include <cstdint>

#include "core/backend.h"
#include "core/cuda/device_compat.h"
#include "core/cuda/kernels/grid.cuh"
#include "core/epilogue_math.h"

namespace ta::cuda_kernels {

__global__ inline void gemm_epilogue_kernel(float* c, float* pre, const float* bias, EpilogueActivation act,
                                            int64_t matrix, int64_t N, int64_t stride_c, int64_t n) {
  for (int64_t e = grid_first(); e < n; e += grid_step()) {
    const int64_t within = e % matrix, at = e / matrix * stride_c + within;
    float v = c[at];
    if (bias) v += bias[within % N];
    if (pre) pre[at] = v;
    c[at] = epilogue_activation(act, v);
  }
}

// ---- launch plan ---------------------------------------------------------------------

// C holds alpha op(A) op(B) + beta C for `batch` M x N matrices stride_c apart.
template <class Launch>
void gemm_epilogue(const Launch& launch, float* c, int64_t M, int64_t N, int64_t stride_c, int64_t batch,
                   const GemmEpilogue& epilogue) {
  const int64_t n = batch * M * N;
  launch(gemm_epilogue_kernel, blocks_for(n), kThreads, 0, c, epilogue.pre_activation, epilogue.bias,
         epilogue.activation, M * N, N, stride_c, n);
}

}  // namespace ta::cuda_kernels

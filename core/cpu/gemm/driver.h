// core/cpu/gemm/driver.h — the project's GEMM on one thread, and split over threads.
//
// Row-major throughout (the convention of core/cpu/matmul.cpp): op(A) is M x K, op(B)
// K x N, C M x N, each with its leading dimension.
#pragma once

#include <cstdint>

#include "core/backend.h"
#include "core/cpu/gemm/blocking.h"
#include "core/cpu/gemm/microkernel.h"

namespace ta::cpu::gemm {

// C = act(alpha op(A) op(B) + beta C + bias), with the epilogue of core/backend.h
// (its pre_activation has C's leading dimension ldc).
struct Product {
  Transpose ta, tb;
  int64_t M, N, K;
  float alpha;
  const float* A;
  int64_t lda;
  const float* B;
  int64_t ldb;
  float beta;
  float* C;
  int64_t ldc;
  GemmEpilogue epilogue;
};

// The whole product on the calling thread (the blocked loops of blocking.h).
void multiply(const MicroKernel& kernel, const Product& p, const Blocking& blocking = {});

// Rows [i0, i1) x columns [j0, j1) of the product on the calling thread.
void multiply_block(const MicroKernel& kernel, const Product& p, int64_t i0, int64_t i1, int64_t j0, int64_t j1,
                    const Blocking& blocking);

}  // namespace ta::cpu::gemm

// core/cpu/gemm/openblas.h — the same products by OpenBLAS: the reference the project's
// GEMM is tested against, and the fallback where it is faster (dispatch.cpp).
#pragma once

#include "core/cpu/gemm/threading.h"

namespace ta::cpu::gemm {

// Each product of the batch by cblas_sgemm (threaded by OpenBLAS itself outside a
// parallel region, on the calling thread inside one), then its epilogue, if any, in
// one pass over C. K must be at least 1.
void openblas_multiply_batch(const Product& first, const Batch& batch);

}  // namespace ta::cpu::gemm

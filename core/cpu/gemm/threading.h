// core/cpu/gemm/threading.h — the project's GEMM split over the cores.
#pragma once

#include <cstdint>

#include "core/cpu/gemm/driver.h"

namespace ta::cpu::gemm {

// Product b of a batch reads A + b stride_a, B + b stride_b and writes C + b stride_c
// (and the pre-activation at the same offset as C).
struct Batch {
  int64_t count, stride_a, stride_b, stride_c;
};

// How many threads a product of this size should use: 1 inside a parallel region (the
// fused attention kernels call GEMMs from their own threads) and for small products,
// else up to omp_get_max_threads(), about one per kMinWorkPerThread multiply-adds.
int threads_for(int64_t M, int64_t N, int64_t K, int64_t batch);

// Every product of the batch, on `threads` OpenMP threads (1: the calling thread only).
void multiply_batch(const MicroKernel& kernel, const Product& first, const Batch& batch, int threads,
                    const Blocking& blocking = {});

}  // namespace ta::cpu::gemm

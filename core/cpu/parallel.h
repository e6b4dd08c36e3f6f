// core/cpu/parallel.h — splitting a loop across OpenMP threads, only when it pays.
//
// Starting a parallel region costs a few microseconds, so small loops run on the
// calling thread. OpenBLAS (the OpenMP build) shares OpenMP's thread pool, and no
// kernel calls BLAS from inside one of these regions, so the two never fight.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstdint>

namespace ta::cpu {

// Below this many elementary operations a loop stays on one thread.
constexpr int64_t kMinParallelWork = 32768;

// Calls body(begin, end) on disjoint ranges covering [0, n), in parallel when
// n * cost_per_item is large enough. `body` must not throw.
template <class Body>
void parallel_for(int64_t n, int64_t cost_per_item, Body&& body) {
  if (n <= 0) return;
  if (n == 1 || n * cost_per_item < kMinParallelWork || omp_get_max_threads() == 1) {
    body(int64_t{0}, n);
    return;
  }
#pragma omp parallel
  {
    int64_t threads = omp_get_num_threads(), t = omp_get_thread_num();
    int64_t chunk = (n + threads - 1) / threads;
    int64_t begin = t * chunk, end = std::min(n, begin + chunk);
    if (begin < end) body(begin, end);
  }
}

}  // namespace ta::cpu

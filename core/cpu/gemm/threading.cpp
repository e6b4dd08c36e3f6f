// core/cpu/gemm/threading.cpp — splitting the products over the cores.
//
// Each thread computes its own block of C with the single-threaded loops of driver.cpp,
// packing its own copy of B's panel into its own core's L2: the threads share nothing
// and never wait for one another until the end. The split:
//   - a batch that shares out evenly (a multiple of the thread count, or at least 4
//     products per thread: attention heads): whole products per thread;
//   - otherwise C is cut into a grid of tm x tn blocks (tm tn = threads) along MR and NR
//     boundaries, choosing the grid whose largest block has the fewest tiles; among
//     those, the one whose threads pack the least: a thread packs its M / tm rows of A
//     and its N / tn columns of B, each K deep. (FFN-down dW, 256 x 4096 x 1024, cut
//     along M had each thread pack all 16 MiB of B for half the product.) Equal ties go
//     to cutting M.
#include "core/cpu/gemm/threading.h"

#include <omp.h>

#include <algorithm>

namespace ta::cpu::gemm {

namespace {

// About 50 microseconds of one core's multiply-adds: starting a parallel region costs a
// few microseconds, so smaller products stay on the calling thread. (A few microseconds
// while OpenMP's idle threads still spin, its default; under OMP_WAIT_POLICY=passive they
// sleep, and waking one took tens of microseconds on the project's virtual machine: most
// of the second thread's gain is lost at 10^7 multiply-adds, a part of it up to 10^8.)
constexpr int64_t kMinWorkPerThread = int64_t{1} << 22;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

struct Grid {
  int64_t tm, tn;
};

Grid choose_grid(const MicroKernel& kernel, int64_t M, int64_t N, int threads) {
  const int64_t row_tiles = ceil_div(M, kernel.mr), col_tiles = ceil_div(N, kernel.nr);
  Grid best{threads, 1};
  int64_t best_tiles = -1, best_packed = 0;
  for (int64_t tm = threads; tm >= 1; --tm) {
    if (threads % tm) continue;
    const int64_t tn = threads / tm;
    const int64_t tiles = ceil_div(row_tiles, tm) * ceil_div(col_tiles, tn);
    const int64_t packed = ceil_div(M, tm) + ceil_div(N, tn);  // rows of A plus columns of B, per K
    if (best_tiles < 0 || tiles < best_tiles || (tiles == best_tiles && packed < best_packed))
      best = {tm, tn}, best_tiles = tiles, best_packed = packed;
  }
  return best;
}

// Rows [begin, end) of part t of `parts`, cut at multiples of `unit`.
std::pair<int64_t, int64_t> part_of(int64_t n, int64_t unit, int64_t parts, int64_t t) {
  const int64_t per_part = ceil_div(ceil_div(n, unit), parts) * unit;
  return {std::min(n, t * per_part), std::min(n, (t + 1) * per_part)};
}

Product item(const Product& first, const Batch& batch, int64_t b) {
  Product p = first;
  p.A += b * batch.stride_a;
  p.B += b * batch.stride_b;
  p.C += b * batch.stride_c;
  if (p.epilogue.pre_activation) p.epilogue.pre_activation += b * batch.stride_c;
  return p;
}

}  // namespace

int threads_for(int64_t M, int64_t N, int64_t K, int64_t batch) {
  if (omp_in_parallel()) return 1;
  const int64_t work = M * N * std::max<int64_t>(K, 1) * batch;
  return static_cast<int>(std::clamp<int64_t>(work / kMinWorkPerThread, 1, omp_get_max_threads()));
}

void multiply_batch(const MicroKernel& kernel, const Product& first, const Batch& batch, int threads,
                    const Blocking& blocking) {
  if (threads <= 1) {
    for (int64_t b = 0; b < batch.count; ++b) multiply(kernel, item(first, batch, b), blocking);
    return;
  }
  if (batch.count % threads == 0 || batch.count >= 4 * threads) {
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t b = 0; b < batch.count; ++b) multiply(kernel, item(first, batch, b), blocking);
    return;
  }
  for (int64_t b = 0; b < batch.count; ++b) {
    const Product p = item(first, batch, b);
#pragma omp parallel num_threads(threads)
    {
      const Grid grid = choose_grid(kernel, p.M, p.N, omp_get_num_threads());  // OpenMP may give fewer
      const int64_t t = omp_get_thread_num();
      const auto [i0, i1] = part_of(p.M, kernel.mr, grid.tm, t % grid.tm);
      const auto [j0, j1] = part_of(p.N, kernel.nr, grid.tn, t / grid.tm);
      multiply_block(kernel, p, i0, i1, j0, j1, blocking);
    }
  }
}

}  // namespace ta::cpu::gemm

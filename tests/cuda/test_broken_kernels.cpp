// The harness catches broken kernels: deliberately wrong variants of a kernel, run
// through the same comparison with the CPU backend as the real ones, must fail it.
// Each variant is a flag on one kernel, so the right and the broken version differ
// in exactly the bug.
#include "tests/cuda/kernel_testing.h"

#include <string>
#include <vector>

#include "core/cuda/kernels/grid.cuh"

namespace k = ta::cuda_kernels;
using namespace ta;
using namespace ta::testing;

namespace {

// index_select, y[o, j, k] = x[o, index[j], k]; the broken variant steps between
// the outer slices of x by the output's length n_index instead of x's own n_src.
template <bool right_stride>
__global__ void index_select_variant(const float* x, const float* index, float* y, int64_t outer, int64_t n_src,
                                     int64_t n_index, int64_t inner) {
  for (int64_t t = k::grid_first(); t < outer * n_index * inner; t += k::grid_step()) {
    const int64_t o = t / inner / n_index, j = t / inner % n_index, c = t % inner;
    const int64_t slice = right_stride ? n_src : n_index;
    y[t] = x[(o * slice + static_cast<int64_t>(index[j])) * inner + c];
  }
}

// Row sums by the classic shared-memory tree: each thread sums a strided part of
// the row, then halves of the block add up pairwise. The broken variant leaves out
// the barrier between storing the partial sums and the first pairwise step.
template <bool barrier_after_store>
__global__ void tree_row_sum(const float* x, float* y, int64_t n) {
  __shared__ float partial[k::kThreads];
  const int t = static_cast<int>(threadIdx.x);
  float s = 0.0f;
  for (int64_t i = t; i < n; i += blockDim.x) s += x[blockIdx.x * n + i];
  partial[t] = s;
  if (barrier_after_store) __syncthreads();
  for (int half = static_cast<int>(blockDim.x) / 2; half > 0; half /= 2) {
    if (t < half) partial[t] += partial[t + half];
    __syncthreads();
  }
  if (t == 0) y[blockIdx.x] = partial[0];
}

// The comparison with the CPU's index_select, for one variant. (With fewer picks
// than rows the broken stride stays inside x, so the bug shows as wrong values.)
template <bool right_stride>
std::string index_select_mismatch() {
  const int64_t outer = 2, n_src = 7, n_index = 5, inner = 3;
  const std::vector<float> x = uniform_values(outer * n_src * inner, 1), index = index_values(n_index, n_src, 2);
  std::vector<float> got = nan_buffer(outer * n_index * inner), want = got;
  simt::launch(index_select_variant<right_stride>, k::blocks_for(got.size()), k::kThreads, 0, x.data(), index.data(),
               got.data(), outer, n_src, n_index, inner);
  cpu_backend().index_select(x.data(), index.data(), want.data(), outer, n_src, n_index, inner);
  return mismatch(got, want);
}

// The comparison with the CPU's row sums, in each turn order; a failure in either
// is a failure, as in kLaunchVariants (kernel_testing.h).
template <bool barrier_after_store>
std::vector<std::string> tree_sum_mismatches() {
  const int64_t rows = 3, n = 1000;
  const std::vector<float> x = uniform_values(rows * n, 3);
  std::vector<float> want = nan_buffer(rows);
  cpu_backend().reduce(ReduceOp::Sum, x.data(), want.data(), rows, n, 1);
  std::vector<std::string> misses;
  for (simt::Order order : {simt::Order::Forward, simt::Order::Reverse}) {
    std::vector<float> got = nan_buffer(rows);
    simt::launch_in_order(order, tree_row_sum<barrier_after_store>, dim3(rows), dim3(k::kThreads), 0, x.data(),
                          got.data(), n);
    misses.push_back(mismatch(got, want, 1e-5f, 1e-5f));
  }
  return misses;
}

}  // namespace

TEST_CASE("cuda kernels (emulated): the comparison catches a wrong index") {
  CHECK(index_select_mismatch<true>().empty());
  CHECK_FALSE(index_select_mismatch<false>().empty());
}

TEST_CASE("cuda kernels (emulated): the comparison catches a missing __syncthreads, every run") {
  for (int run = 0; run < 3; ++run) {  // deterministic turn-taking: the same verdict each time
    const std::vector<std::string> right = tree_sum_mismatches<true>(), broken = tree_sum_mismatches<false>();
    CHECK(right[0].empty());
    CHECK(right[1].empty());
    // Forward turns run thread 0 to the first pairwise step before thread 128 has
    // stored its partial sum. (Reverse turns happen to store every partial first, so
    // this race hides there; other races hide in forward order, hence both.)
    CHECK_FALSE(broken[0].empty());
  }
}

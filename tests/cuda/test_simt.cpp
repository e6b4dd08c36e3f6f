// The SIMT emulation itself (tests/cuda/simt.h): indices, barriers, turn order,
// shuffles, atomics, dynamic shared memory, and that a missing barrier is caught
// every time rather than once in a while.
#include "tests/cuda/simt.h"

#include <doctest/doctest.h>

#include "core/cuda/device_compat.h"

#include <numeric>
#include <vector>

namespace {

// Every thread of a 3-D grid of 3-D blocks writes its global linear index.
__global__ void write_ids(int* out) {
  const unsigned tid = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
  const unsigned bid = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
  const unsigned per_block = blockDim.x * blockDim.y * blockDim.z;
  out[bid * per_block + tid] = static_cast<int>(bid * per_block + tid);
}

// Reverses each block's slice of x through shared memory; with the barrier, and
// (with_barrier = false) without it.
template <bool with_barrier>
__global__ void reverse_in_block(const float* x, float* y) {
  __shared__ float s[64];
  const unsigned t = threadIdx.x, base = blockIdx.x * blockDim.x;
  s[t] = x[base + t];
  if (with_barrier) __syncthreads();
  y[base + t] = s[blockDim.x - 1 - t];
}

// Threads past n leave early; the others still meet at the barrier.
__global__ void early_exit_then_barrier(float* y, int n) {
  __shared__ float s[64];
  const int t = static_cast<int>(threadIdx.x);
  if (t >= n) return;
  s[t] = static_cast<float>(t);
  __syncthreads();
  y[t] = s[n - 1 - t];
}

__global__ void shuffles(float* down, float* up, float* xr, float* from_lane3, float* sum) {
  const unsigned t = threadIdx.x;
  const float v = static_cast<float>(t);
  down[t] = __shfl_down_sync(0xffffffffu, v, 1);
  up[t] = __shfl_up_sync(0xffffffffu, v, 2);
  xr[t] = __shfl_xor_sync(0xffffffffu, v, 5);
  from_lane3[t] = __shfl_sync(0xffffffffu, v, 3);
  float s = v;
  for (int offset = 16; offset > 0; offset /= 2) s += __shfl_xor_sync(0xffffffffu, s, offset);
  sum[t] = s;
}

__global__ void count_with_atomics(float* total, int* count, int* biggest) {
  atomicAdd(total, 0.5f);
  atomicAdd(count, 1);
  atomicMax(biggest, static_cast<int>(threadIdx.x + blockIdx.x * blockDim.x));
}

__global__ void read_dynamic_shared(float* first, int* as_int) {
  TA_DYNAMIC_SHARED(float, buffer);
  if (threadIdx.x == 0) {
    *first = buffer[0];
    *as_int = reinterpret_cast<int*>(buffer)[1];
  }
}

}  // namespace

TEST_CASE("simt: every thread of every block runs once, with its indices") {
  const dim3 grid(2, 3, 2), block(4, 2, 3);
  std::vector<int> out(2 * 3 * 2 * 4 * 2 * 3, -1);
  simt::launch(write_ids, grid, block, 0, out.data());
  std::vector<int> expected(out.size());
  std::iota(expected.begin(), expected.end(), 0);
  CHECK(out == expected);
}

TEST_CASE("simt: an empty grid runs nothing") {
  std::vector<int> out(4, -1);
  simt::launch(write_ids, dim3(0), dim3(4), 0, out.data());
  CHECK(out == std::vector<int>(4, -1));
}

TEST_CASE("simt: __syncthreads makes shared writes visible; without it the stale value is read every time") {
  const int threads = 40, blocks = 3;
  std::vector<float> x(threads * blocks), y(x.size()), expected(x.size());
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i);
  for (int b = 0; b < blocks; ++b)
    for (int t = 0; t < threads; ++t) expected[b * threads + t] = x[b * threads + threads - 1 - t];
  for (simt::Order order : {simt::Order::Forward, simt::Order::Reverse}) {
    simt::launch_in_order(order, reverse_in_block<true>, dim3(blocks), dim3(threads), 0, x.data(), y.data());
    CHECK(y == expected);
    simt::launch_in_order(order, reverse_in_block<false>, dim3(blocks), dim3(threads), 0, x.data(), y.data());
    CHECK(y != expected);
  }
}

TEST_CASE("simt: threads that returned count as arrived at later barriers") {
  std::vector<float> y(5, -1.0f);
  simt::launch(early_exit_then_barrier, dim3(1), dim3(64), 0, y.data(), 5);
  CHECK(y == std::vector<float>{4, 3, 2, 1, 0});
}

TEST_CASE("simt: warp shuffles follow CUDA's lane rules") {
  const int threads = 64;  // two warps
  std::vector<float> down(threads), up(threads), xr(threads), lane3(threads), sum(threads);
  simt::launch(shuffles, dim3(1), dim3(threads), 0, down.data(), up.data(), xr.data(), lane3.data(), sum.data());
  for (int t = 0; t < threads; ++t) {
    const int lane = t % 32, warp = t / 32;
    CAPTURE(t);
    CHECK(down[t] == static_cast<float>(lane < 31 ? t + 1 : t));
    CHECK(up[t] == static_cast<float>(lane >= 2 ? t - 2 : t));
    CHECK(xr[t] == static_cast<float>(warp * 32 + (lane ^ 5)));
    CHECK(lane3[t] == static_cast<float>(warp * 32 + 3));
    CHECK(sum[t] == static_cast<float>(warp * 32 * 32 + 31 * 32 / 2));  // the warp's lane ids summed
  }
}

TEST_CASE("simt: atomics see every thread of every block") {
  float total = 0.0f;
  int count = 0, biggest = -1;
  simt::launch(count_with_atomics, dim3(3), dim3(50), 0, &total, &count, &biggest);
  CHECK(total == 75.0f);
  CHECK(count == 150);
  CHECK(biggest == 149);
}

TEST_CASE("simt: dynamic shared memory starts each block as 0xff bytes (NaN, -1), never zero") {
  float first = 0.0f;
  int as_int = 0;
  simt::launch(read_dynamic_shared, dim3(2), dim3(32), 64, &first, &as_int);
  CHECK(std::isnan(first));
  CHECK(as_int == -1);
}

// tests/cuda/kernel_testing.h — what the tests of the CUDA backend's own kernels
// share: inputs, the CPU backend to compare with (which records the operations a
// test calls), the test cases that name the backend operations they check, an
// element-wise comparison, and the ways each check launches the kernels under the
// SIMT emulation.
#pragma once

#include "tests/cuda/simt.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/backend.h"
#include "core/cpu/cpu_backend.h"
#include "core/error.h"

namespace ta::testing {

// The CPU backend, noting the name of every operation of core/backend_ops.h it is
// asked to run: what a case below must have compared against.
class RecordingCpuBackend : public cpu::CpuBackend {
 public:
#define TA_BACKEND_OP(kind, ret, name, params, args) \
  ret name params override {                       \
    record(#name);                                 \
    return cpu::CpuBackend::name args;             \
  }
#include "core/backend_ops.h"
#undef TA_BACKEND_OP

  std::set<std::string> take_calls() {
    std::lock_guard<std::mutex> lock(mutex_);
    return std::exchange(calls_, {});
  }

 private:
  void record(const char* name) {
    std::lock_guard<std::mutex> lock(mutex_);
    calls_.insert(name);
  }
  std::mutex mutex_;
  std::set<std::string> calls_;
};

inline RecordingCpuBackend& recording_cpu_backend() {
  static RecordingCpuBackend b;
  return b;
}
inline Backend& cpu_backend() { return recording_cpu_backend(); }

// A test case that runs CUDA kernels under the emulation against the CPU backend's
// operations of the same names, listed after its title. The case fails unless its
// body asked cpu_backend() for each of them; tests/cuda/test_backend_ops.cpp fails
// while some operation of kind Kernel in core/backend_ops.h has no such case.
struct BackendOpCase {
  const char* title;
  std::vector<std::string> ops;
};
inline std::vector<const BackendOpCase*>& backend_op_cases() {
  static std::vector<const BackendOpCase*> cases;
  return cases;
}
struct RegisterBackendOpCase {
  explicit RegisterBackendOpCase(const BackendOpCase& c) { backend_op_cases().push_back(&c); }
};
inline void run_backend_op_case(const BackendOpCase& c, void (*body)()) {
  recording_cpu_backend().take_calls();
  body();
  const std::set<std::string> called = recording_cpu_backend().take_calls();
  for (const std::string& op : c.ops)
    CHECK_MESSAGE(called.count(op) == 1, "the case names backend operation '", op,
                  "' but never ran it on the CPU backend to compare with");
}

#define TA_BACKEND_CASE_NAME(prefix, line) prefix##line
#define TA_BACKEND_CASE_NAMES(title, line, ...)                                                                 \
  static void TA_BACKEND_CASE_NAME(ta_backend_case_body_, line)();                                             \
  static const ::ta::testing::BackendOpCase TA_BACKEND_CASE_NAME(ta_backend_case_, line){title, {__VA_ARGS__}}; \
  static const ::ta::testing::RegisterBackendOpCase TA_BACKEND_CASE_NAME(ta_backend_case_registered_, line){     \
      TA_BACKEND_CASE_NAME(ta_backend_case_, line)};                                                            \
  TEST_CASE(title) {                                                                                            \
    ::ta::testing::run_backend_op_case(TA_BACKEND_CASE_NAME(ta_backend_case_, line),                            \
                                       TA_BACKEND_CASE_NAME(ta_backend_case_body_, line));                      \
  }                                                                                                             \
  static void TA_BACKEND_CASE_NAME(ta_backend_case_body_, line)()
// BACKEND_OP_CASE("cuda kernels (emulated): ...", "layer_norm", "layer_norm_backward") { body }
#define BACKEND_OP_CASE(title, ...) TA_BACKEND_CASE_NAMES(title, __LINE__, __VA_ARGS__)

// n values uniform in [lo, hi) from `seed`.
inline std::vector<float> uniform_values(int64_t n, uint64_t seed, float lo = -2.0f, float hi = 2.0f) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = u(gen);
  return v;
}

// n whole numbers in [0, bound), stored as floats like every index.
inline std::vector<float> index_values(int64_t n, int64_t bound, uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::uniform_int_distribution<int64_t> u(0, bound - 1);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = static_cast<float>(u(gen));
  return v;
}

// A buffer a kernel must overwrite: NaN everywhere, so a missed element shows.
inline std::vector<float> nan_buffer(int64_t n) {
  return std::vector<float>(static_cast<size_t>(n), std::numeric_limits<float>::quiet_NaN());
}

// "" when got[i] is within atol + rtol |want[i]| of want[i] everywhere (NaN only
// where want has NaN, infinities equal), else a description of the first miss.
inline std::string mismatch(const std::vector<float>& got, const std::vector<float>& want, float rtol = 1e-5f,
                            float atol = 1e-6f) {
  if (got.size() != want.size()) return cat("sizes differ: ", got.size(), " vs ", want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    const float g = got[i], w = want[i];
    const bool same = std::isnan(w)   ? std::isnan(g)
                      : std::isinf(w) ? g == w
                                      : std::fabs(g - w) <= atol + rtol * std::fabs(w);
    if (!same) return cat("element ", i, " of ", got.size(), ": got ", g, ", expected ", w);
  }
  return "";
}

#define CHECK_CLOSE(got, want, ...)                                      \
  do {                                                                   \
    const std::string ta_miss_ = ::ta::testing::mismatch(got, want __VA_OPT__(, ) __VA_ARGS__); \
    CHECK_MESSAGE(ta_miss_.empty(), ta_miss_);                           \
  } while (0)

// How a test launches a plan: the threads of each block taking turns in `order`,
// and at most `max_blocks` blocks (0: the grid the plan asks for).
struct TestLaunch {
  simt::Order order;
  unsigned max_blocks;
  const char* name;
  template <class... Params, class... Args>
  void operator()(void (*kernel)(Params...), dim3 grid, dim3 block, size_t smem, Args&&... args) const {
    if (max_blocks > 0 && grid.x > max_blocks) grid.x = max_blocks;
    simt::launch_in_order(order, kernel, grid, block, smem, std::forward<Args>(args)...);
  }
};

// Each check runs three ways: turns forward, turns in reverse (a kernel right in
// only one order has a race), and on a grid cut to two blocks (every grid-stride
// loop must still cover all its items).
inline constexpr TestLaunch kLaunchVariants[] = {{simt::Order::Forward, 0, "forward turns"},
                                                 {simt::Order::Reverse, 0, "reverse turns"},
                                                 {simt::Order::Forward, 2, "two blocks"}};

}  // namespace ta::testing

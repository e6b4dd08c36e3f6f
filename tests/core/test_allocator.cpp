// tests/core/test_allocator.cpp — sizes no machine can hold: the caching
// allocator's checks on a stand-in device (what it refuses, and that it refuses
// before asking the device), and the cases of issue 17 through the real tensor
// creation on the CPU (and the GPU where there is one): a byte count that wraps
// around, a rounding that overflows, a size beyond the machine's memory, a failed
// allocation. Each must be an OutOfMemory error naming the shape and the bytes,
// with nothing allocated.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "core/allocator.h"
#include "core/backend.h"
#include "core/error.h"
#include "core/kernels.h"
#include "core/tensor.h"

using ta::CachingAllocator;
using ta::OutOfMemory;
using ta::Shape;
using ta::Tensor;

namespace {

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// The message of the OutOfMemory error f() throws ("" when it throws none).
template <class F>
std::string oom_message(F&& f) {
  try {
    f();
  } catch (const OutOfMemory& e) {
    return e.what();
  }
  return "";
}

// A stand-in device of kCapacity bytes: malloc underneath, counting its calls; it
// refuses (returns null) when `refuse` is set.
constexpr size_t kCapacity = size_t{1} << 20;
int raw_calls = 0;
bool refuse = false;
void* fake_alloc(size_t bytes) {
  ++raw_calls;
  return refuse ? nullptr : std::malloc(bytes);
}
void fake_free(void* p) { std::free(p); }
CachingAllocator::Capacity fake_capacity(const CachingAllocator::Stats& held) {
  const size_t used = held.live_bytes + held.cached_bytes;
  return {used < kCapacity ? kCapacity - used : 0, "the test device has 1 MiB"};
}

}  // namespace

TEST_CASE("allocator: byte counts never wrap around") {
  CHECK(ta::float_bytes(0) == 0);
  CHECK(ta::float_bytes(1000) == 4000);
  // 2^62 floats are 2^64 bytes: the old n * sizeof(float) wrapped to 0.
  const std::string wrapped = oom_message([] { (void)ta::float_bytes(int64_t{1} << 62); });
  CHECK(contains(wrapped, "cannot allocate 4611686018427387904 floats"));
  CHECK(contains(wrapped, "more than a 64-bit address space"));
  CHECK_THROWS_AS((void)ta::float_bytes(std::numeric_limits<int64_t>::max()), OutOfMemory);
  CHECK_THROWS_WITH_AS((void)ta::float_bytes(-1), doctest::Contains("negative number of floats (-1)"), ta::Error);
}

TEST_CASE("allocator: size rounding refuses sizes beyond 2^62 bytes instead of dividing by zero") {
  CHECK(CachingAllocator::round_size(1) == 256);
  CHECK(CachingAllocator::round_size(size_t{64} << 10) == size_t{64} << 10);
  CHECK(CachingAllocator::round_size((size_t{64} << 10) + 1) == (size_t{96} << 10));  // quarters of 128 KiB
  CHECK(CachingAllocator::round_size(size_t{1} << 62) == size_t{1} << 62);
  // std::bit_ceil of these is 0 or undefined: the old rounding divided by zero (SIGFPE).
  for (size_t bytes : {(size_t{1} << 62) + 1, (size_t{1} << 63) + 1, std::numeric_limits<size_t>::max()}) {
    INFO(bytes);
    const std::string m = oom_message([&] { (void)CachingAllocator::round_size(bytes); });
    CHECK(contains(m, "more than 2^62 bytes"));
    CHECK(contains(m, std::to_string(bytes) + " bytes"));
  }
}

TEST_CASE("allocator: a request beyond the device's memory is refused before asking the device") {
  CachingAllocator a("test device", fake_alloc, fake_free, fake_capacity);
  raw_calls = 0;
  refuse = false;
  const std::string m = oom_message([&] { a.allocate(2 * kCapacity); });
  CHECK(contains(m, "cannot allocate 2.0 MiB (2097152 bytes) on the test device: the test device has 1 MiB"));
  CHECK(raw_calls == 0);
  CHECK(a.stats().live_bytes == 0);

  // What is held counts: a second 600 KiB block does not fit beside the first.
  void* p = a.allocate(600 << 10);
  CHECK(raw_calls == 1);
  CHECK_THROWS_AS(a.allocate(600 << 10), OutOfMemory);
  CHECK(raw_calls == 1);
  // Cached blocks are given back before refusing: 700 KiB fits once the 600 KiB block
  // is out of the cache (the free list held it).
  a.deallocate(p, 600 << 10);
  CHECK(a.stats().cached_bytes > 0);
  void* q = a.allocate(700 << 10);
  CHECK(a.stats().cached_bytes == 0);
  a.deallocate(q, 700 << 10);
}

TEST_CASE("allocator: a device that refuses gives an OutOfMemory error, not a bare std::bad_alloc") {
  CachingAllocator a("test device", fake_alloc, fake_free, fake_capacity);
  raw_calls = 0;
  refuse = true;
  const std::string m = oom_message([&] { a.allocate(1000); });
  refuse = false;
  CHECK(contains(m, "cannot allocate 1000 bytes on the test device: the allocation failed; the test device has 1 MiB"));
  CHECK(raw_calls == 2);  // once, then again with the cache emptied
  CHECK(a.stats().live_bytes == 0);
}

TEST_CASE("tensor sizes no machine holds: an error naming the shape and the bytes, nothing allocated") {
  const size_t live_before = ta::cpu_allocator().stats().live_bytes;
  const size_t memory = ta::machine_memory_bytes();
  REQUIRE(memory > 0);  // Linux reports its physical memory
  struct Case {
    const char* what;
    Shape shape;
    std::vector<std::string> expected;
  };
  const std::vector<Case> cases = {
      // protein_lm --max-len 288230376151711744 (2^58): [max_len, 64] has 2^64 elements.
      {"element count past int64", Shape{int64_t{1} << 58, 64},
       {"shape [288230376151711744, 64]", "7.3787e+19 bytes", "does not even fit in int64"}},
      // 2^62 floats: the byte count 2^64 wrapped to a small block, then a heap overflow.
      {"byte count past 2^64", Shape{int64_t{1} << 62},
       {"shape [4611686018427387904]", "more than a 64-bit address space"}},
      // --max-len 99999999999999999999, saturated by the flag parser to INT64_MAX.
      {"INT64_MAX floats", Shape{std::numeric_limits<int64_t>::max()}, {"shape [9223372036854775807]"}},
      // 2^61 floats = 2^63 bytes: std::bit_ceil overflowed to 0 in the rounding (SIGFPE).
      {"rounding past 2^63", Shape{int64_t{1} << 61}, {"more than 2^62 bytes"}},
      // --max-len 1e12 (a bare std::bad_alloc) and 1e8 (killed by the kernel): twice this
      // machine's memory, whatever it is.
      {"twice the machine's memory", Shape{2, static_cast<int64_t>(memory / 4)},
       {"cannot allocate", "on the CPU: the machine has", ta::format_bytes(memory)}},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    for (auto create : {+[](const Shape& s) { return Tensor::empty(s); }, +[](const Shape& s) { return Tensor::zeros(s); },
                        +[](const Shape& s) { return Tensor::normal(s); }}) {
      const std::string m = oom_message([&] { (void)create(c.shape); });
      INFO(m);
      CHECK(contains(m, "cannot make a tensor of shape " + c.shape.str()));
      for (const std::string& part : c.expected) CHECK(contains(m, part));
    }
  }
  CHECK(ta::cpu_allocator().stats().live_bytes == live_before);
}

TEST_CASE("tensor sizes: kernels refuse output shapes that overflow, naming them") {
  // Zero-element inputs make any size cheap to ask for.
  const Tensor a = Tensor::empty({int64_t{1} << 40, 0}), b = Tensor::empty({0, int64_t{1} << 40});
  CHECK_THROWS_WITH_AS(ta::kernels::matmul(a, b, ta::Transpose::No, ta::Transpose::No),
                       doctest::Contains("cannot make a tensor of shape [1099511627776, 1099511627776]"), OutOfMemory);
  const Tensor wide = Tensor::empty({0, int64_t{1} << 62});
  CHECK_THROWS_WITH_AS(ta::kernels::concat({wide, wide}, 1),
                       doctest::Contains("concat: the sizes along axis 1 add up to more than int64 counts"), ta::Error);
  CHECK_THROWS_WITH_AS(ta::kernels::narrow(wide, 1, int64_t{1} << 62, int64_t{1} << 62),
                       doctest::Contains("narrow: 4611686018427387904 elements from 4611686018427387904"), ta::Error);
  CHECK_THROWS_WITH_AS(Tensor::arange(0.0f, 1e30f, 1e-30f), doctest::Contains("more than int64 counts"), ta::Error);
}

TEST_CASE("tensor sizes on the GPU: refused against its free memory") {
  if (!ta::cuda_available()) {
    MESSAGE("skipped: no CUDA device in this build or on this machine");
    return;
  }
  const std::string m = oom_message([] { (void)Tensor::empty({int64_t{1} << 50}, ta::Device::CUDA); });
  CHECK(contains(m, "cannot make a tensor of shape [1125899906842624]"));
  CHECK(contains(m, "on the GPU: the GPU has"));
  CHECK(contains(m, "free of"));
}

#include "core/allocator.h"

#include <unistd.h>

#include <bit>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <string>

namespace ta {

namespace {

constexpr size_t kMaxRequest = size_t{1} << 62;  // 4 EiB: beyond any machine, and round_size cannot overflow below it

}  // namespace

size_t float_bytes(int64_t n) {
  TA_CHECK(n >= 0, "allocate: a negative number of floats (", n, ")");
  if (static_cast<uint64_t>(n) > std::numeric_limits<size_t>::max() / sizeof(float))
    throw OutOfMemory(cat("cannot allocate ", n, " floats: ", n, " x 4 bytes is more than a 64-bit address space"));
  return static_cast<size_t>(n) * sizeof(float);
}

std::string format_bytes(size_t bytes) {
  const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double value = static_cast<double>(bytes);
  int u = 0;
  while (value >= 1024 && u < 6) value /= 1024, ++u;
  if (u == 0) return cat(bytes, " bytes");
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f %s (%zu bytes)", value, units[u], bytes);
  return buf;
}

size_t CachingAllocator::round_size(size_t bytes) {
  if (bytes > kMaxRequest)
    throw OutOfMemory(cat("cannot allocate ", format_bytes(bytes), ": more than 2^62 bytes, beyond any machine"));
  if (bytes == 0) bytes = 1;
  if (bytes < (size_t{64} << 10)) return (bytes + 255) / 256 * 256;
  size_t quarter = std::bit_ceil(bytes) / 4;
  return (bytes + quarter - 1) / quarter * quarter;
}

void CachingAllocator::refuse(size_t bytes, const Capacity& capacity, const char* reason) {
  throw OutOfMemory(cat("cannot allocate ", format_bytes(bytes), " on the ", device_, ": ", reason, capacity.description));
}

void* CachingAllocator::allocate(size_t bytes) {
  const size_t size = round_size(bytes);
  Stats held;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = free_.find(size);
    if (it != free_.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      stats_.cached_bytes -= size;
      stats_.live_bytes += size;
      stats_.allocated_bytes += size;
      if (stats_.live_bytes > stats_.peak_live_bytes) stats_.peak_live_bytes = stats_.live_bytes;
      return p;
    }
    held = stats_;
  }
  // Before asking the device: does it have the memory at all? Cached blocks count as
  // held until given back, so give them back before refusing.
  Capacity capacity = capacity_(held);
  if (size > capacity.available) {
    release_cached();
    capacity = capacity_(stats());
    if (size > capacity.available) refuse(bytes, capacity, "");
  }
  void* p = raw_alloc_(size);
  if (!p) {
    release_cached();  // try once more with the cache emptied
    p = raw_alloc_(size);
  }
  if (!p) refuse(bytes, capacity_(stats()), "the allocation failed; ");
  std::lock_guard<std::mutex> lock(mu_);
  stats_.live_bytes += size;
  stats_.allocated_bytes += size;
  if (stats_.live_bytes > stats_.peak_live_bytes) stats_.peak_live_bytes = stats_.live_bytes;
  return p;
}

void CachingAllocator::deallocate(void* p, size_t bytes) {
  if (!p) return;
  size_t size = round_size(bytes);
  std::lock_guard<std::mutex> lock(mu_);
  stats_.live_bytes -= size;
  stats_.cached_bytes += size;
  free_[size].push_back(p);
}

void CachingAllocator::release_cached() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [size, blocks] : free_) {
    for (void* p : blocks) raw_free_(p);
  }
  free_.clear();
  stats_.cached_bytes = 0;
}

CachingAllocator::Stats CachingAllocator::stats() {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

// ---- the CPU's allocator --------------------------------------------------------

namespace {

// The first number in a file such as /sys/fs/cgroup/memory.max, or 0 when the file
// is missing or says "max" (no limit).
size_t number_in_file(const char* path) {
  std::ifstream in(path);
  unsigned long long n = 0;
  return (in >> n) ? static_cast<size_t>(n) : 0;
}

void* cpu_raw_alloc(size_t bytes) { return std::aligned_alloc(64, bytes); }
void cpu_raw_free(void* p) { std::free(p); }

CachingAllocator::Capacity cpu_capacity(const CachingAllocator::Stats& held) {
  const size_t total = machine_memory_bytes();
  if (total == 0) return {std::numeric_limits<size_t>::max(), "the machine's memory size is unknown"};
  const size_t used = held.live_bytes + held.cached_bytes;
  return {total > used ? total - used : 0,
          cat("the machine has ", format_bytes(total), " of memory",
              used ? cat(", of which tensors hold ", format_bytes(used), " already") : "")};
}

}  // namespace

size_t machine_memory_bytes() {
  static const size_t bytes = [] {
    const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
    size_t physical = 0;
    if (pages > 0 && page > 0 && __builtin_mul_overflow(static_cast<size_t>(pages), static_cast<size_t>(page), &physical))
      physical = std::numeric_limits<size_t>::max();
    size_t limit = physical;
    for (const char* cgroup : {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {
      const size_t n = number_in_file(cgroup);
      if (n > 0 && (limit == 0 || n < limit)) limit = n;
    }
    return limit;
  }();
  return bytes;
}

CachingAllocator& cpu_allocator() {
  // Never destroyed: tensors held in static objects may be freed after main returns.
  static CachingAllocator* a = new CachingAllocator("CPU", cpu_raw_alloc, cpu_raw_free, cpu_capacity);
  return *a;
}

}  // namespace ta

#include "core/allocator.h"

#include <bit>
#include <cstdlib>
#include <new>

namespace ta {

size_t CachingAllocator::round_size(size_t bytes) {
  if (bytes == 0) bytes = 1;
  if (bytes < (size_t{64} << 10)) return (bytes + 255) / 256 * 256;
  size_t quarter = std::bit_ceil(bytes) / 4;
  return (bytes + quarter - 1) / quarter * quarter;
}

void* CachingAllocator::allocate(size_t bytes) {
  size_t size = round_size(bytes);
  {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.live_bytes += size;
    stats_.allocated_bytes += size;
    if (stats_.live_bytes > stats_.peak_live_bytes) stats_.peak_live_bytes = stats_.live_bytes;
    auto it = free_.find(size);
    if (it != free_.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      stats_.cached_bytes -= size;
      return p;
    }
  }
  void* p = raw_alloc_(size);
  if (!p) {
    release_cached();  // try once more with the cache emptied
    p = raw_alloc_(size);
  }
  if (!p) {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.live_bytes -= size;
    stats_.allocated_bytes -= size;
    throw std::bad_alloc();
  }
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

static void* cpu_raw_alloc(size_t bytes) { return std::aligned_alloc(64, bytes); }
static void cpu_raw_free(void* p) { std::free(p); }

CachingAllocator& cpu_allocator() {
  // Never destroyed: tensors held in static objects may be freed after main returns.
  static CachingAllocator* a = new CachingAllocator(cpu_raw_alloc, cpu_raw_free);
  return *a;
}

}  // namespace ta

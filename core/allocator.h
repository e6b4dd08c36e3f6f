// core/allocator.h — a caching allocator: free lists by size, so training steps
// never return memory to the operating system.
//
// Why: glibc hands large blocks out with mmap and gives them back with munmap, so
// every big temporary of a training step is page-faulted afresh on every touch
// (see shared bench notes: half a million faults per step in PyTorch). Here a freed
// block goes to a free list keyed by its rounded size and is handed out again to
// the next request of that size. One instance per device; the CPU one is below,
// the CUDA one lives in core/cuda/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace ta {

class CachingAllocator {
 public:
  // raw_alloc / raw_free are the device's own (uncached) allocation functions.
  using RawAlloc = void* (*)(size_t bytes);
  using RawFree = void (*)(void* p);
  CachingAllocator(RawAlloc raw_alloc, RawFree raw_free) : raw_alloc_(raw_alloc), raw_free_(raw_free) {}
  ~CachingAllocator() { release_cached(); }

  void* allocate(size_t bytes);          // a block of at least `bytes`, 64-byte aligned
  void deallocate(void* p, size_t bytes);  // `bytes` as asked for in allocate
  void release_cached();                 // gives every cached block back to the device

  struct Stats {
    size_t live_bytes = 0;    // handed out and not yet returned
    size_t cached_bytes = 0;  // in the free lists
    size_t peak_live_bytes = 0;
    size_t allocated_bytes = 0;  // every block handed out so far, summed (never decreases)
  };
  Stats stats();

  // Sizes are rounded up so that nearby sizes share a list: to 256 bytes below
  // 64 KiB, above that to a quarter of the next power of two.
  static size_t round_size(size_t bytes);

 private:
  RawAlloc raw_alloc_;
  RawFree raw_free_;
  std::mutex mu_;
  std::unordered_map<size_t, std::vector<void*>> free_;
  Stats stats_;
};

CachingAllocator& cpu_allocator();

}  // namespace ta

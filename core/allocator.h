// core/allocator.h — a caching allocator: free lists by size, so training steps
// never return memory to the operating system; and the check that refuses a size
// no device could hold before anything is allocated.
//
// Why the cache: glibc hands large blocks out with mmap and gives them back with
// munmap, so every big temporary of a training step is page-faulted afresh on every
// touch (see shared bench notes: half a million faults per step in PyTorch). Here a
// freed block goes to a free list keyed by its rounded size and is handed out again
// to the next request of that size. One instance per device; the CPU one is below,
// the CUDA one lives in core/cuda/.
//
// Why the check: on Linux a request larger than the machine's memory often succeeds
// (memory is overcommitted) and the process is killed by the kernel later, when the
// pages are touched, with no message. So before asking the device, a request is
// compared with what the device has (`Capacity`: the machine's memory for the CPU,
// the GPU's free memory for CUDA) and refused with an OutOfMemory error that says
// how much was asked for and how much there is.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/error.h"

namespace ta {

// A request the device cannot satisfy. Tensor creation adds the tensor's shape to
// the message (core/tensor.cpp).
struct OutOfMemory : Error {
  using Error::Error;
};

// n floats in bytes; an OutOfMemory error when n is negative or the count does not
// fit in size_t (no wrap-around to a small block).
size_t float_bytes(int64_t n);

// "1.50 GiB (1610612736 bytes)": a byte count for messages.
std::string format_bytes(size_t bytes);

class CachingAllocator {
 public:
  struct Stats {
    size_t live_bytes = 0;    // handed out and not yet returned
    size_t cached_bytes = 0;  // in the free lists
    size_t peak_live_bytes = 0;
    size_t allocated_bytes = 0;  // every block handed out so far, summed (never decreases)
  };
  // How much more the device could hand out, given what this allocator already
  // holds (`held`), and a sentence saying so for the error message, e.g. "the
  // machine has 23.4 GiB of memory, 2.1 GiB of it held by tensors".
  struct Capacity {
    size_t available;
    std::string description;
  };

  // raw_alloc / raw_free are the device's own (uncached) allocation functions;
  // capacity is asked before every raw allocation.
  using RawAlloc = void* (*)(size_t bytes);
  using RawFree = void (*)(void* p);
  using CapacityProbe = Capacity (*)(const Stats& held);
  CachingAllocator(const char* device, RawAlloc raw_alloc, RawFree raw_free, CapacityProbe capacity)
      : device_(device), raw_alloc_(raw_alloc), raw_free_(raw_free), capacity_(capacity) {}
  ~CachingAllocator() { release_cached(); }

  // A block of at least `bytes`, 64-byte aligned; OutOfMemory when the device cannot
  // hold it (checked before asking it) or refuses it.
  void* allocate(size_t bytes);
  void deallocate(void* p, size_t bytes);  // `bytes` as asked for in allocate
  void release_cached();                   // gives every cached block back to the device

  Stats stats();

  // Sizes are rounded up so that nearby sizes share a list: to 256 bytes below
  // 64 KiB, above that to a quarter of the next power of two. Sizes above 2^62
  // bytes (no machine has that much memory) are an OutOfMemory error.
  static size_t round_size(size_t bytes);

 private:
  // OutOfMemory naming the request, what the device has, and `reason`.
  [[noreturn]] void refuse(size_t bytes, const Capacity& capacity, const char* reason);

  const char* device_;
  RawAlloc raw_alloc_;
  RawFree raw_free_;
  CapacityProbe capacity_;
  std::mutex mu_;
  std::unordered_map<size_t, std::vector<void*>> free_;
  Stats stats_;
};

CachingAllocator& cpu_allocator();

// The memory the CPU allocator counts as the machine's: physical memory, or the
// control group's limit when that is lower (a container's memory.max). 0 if unknown.
size_t machine_memory_bytes();

}  // namespace ta

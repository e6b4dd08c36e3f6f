// core/scratch.h — scratch buffers from a backend's caching allocator, for kernels
// that need working memory beyond their outputs: a training loop that calls them
// every step gets the same blocks back and never page-faults.
//
// The CPU kernels take it from the CPU backend. A CUDA launch plan (a host function
// template in a kernel header, run with the launcher of core/cuda/launch.h on the GPU
// or simt::Launcher in the tests) takes a Backend for it: the CUDA backend's caching
// allocator on the GPU, the CPU backend's host memory under the emulation.
#pragma once

#include <algorithm>
#include <cstdint>

#include "core/backend.h"

namespace ta {

// n floats of scratch memory from `memory`, given back when it goes out of scope.
// Kernels launched before that on the backend's stream finish before any later use
// of the same memory, so giving it back right after the launches is safe.
class Scratch {
 public:
  Scratch(Backend& memory, int64_t n) : memory_(memory), n_(std::max<int64_t>(n, 1)), p_(memory.allocate(n_)) {}
  ~Scratch() { memory_.deallocate(p_, n_); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  float* data() const { return p_; }

 private:
  Backend& memory_;
  int64_t n_;
  float* p_;
};

}  // namespace ta

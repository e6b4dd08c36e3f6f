// tests/thread_count.h — running part of a test with a given number of OpenMP threads.
#pragma once

#include <omp.h>

namespace ta::testing {

// Sets the OpenMP thread count for the guard's scope and restores the previous one when
// the scope ends, a failed REQUIRE included.
class ThreadCount {
 public:
  explicit ThreadCount(int threads) : previous_(omp_get_max_threads()) { omp_set_num_threads(threads); }
  ~ThreadCount() { omp_set_num_threads(previous_); }
  ThreadCount(const ThreadCount&) = delete;
  ThreadCount& operator=(const ThreadCount&) = delete;

 private:
  int previous_;
};

}  // namespace ta::testing

// examples/bench/timing.h — the clock and the statistics of the benchmark program,
// following the protocol of ../shared/bench (gemm.py, overhead.py): wall time
// around exactly the timed work, warm-up first, then median and min over samples.
#pragma once

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace bench {

// Seconds on a monotonic clock (what time.perf_counter is in Python).
inline double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Keeps the compiler from dropping a computation whose result is otherwise unused.
template <class T>
inline void do_not_optimize(const T& value) {
  asm volatile("" : : "r,m"(value) : "memory");
}

struct Summary {
  double median = 0, min = 0;
  int count = 0;
};

// Median as the Python scripts take it (sorted[n / 2], the middle one for odd n) and min.
inline Summary summarize(std::vector<double> samples) {
  Summary s;
  if (samples.empty()) return s;
  std::sort(samples.begin(), samples.end());
  s.median = samples[samples.size() / 2];
  s.min = samples.front();
  s.count = static_cast<int>(samples.size());
  return s;
}

// Two warm-up calls; returns k, the number of back-to-back calls that make a block
// last at least `min_block_s` (gemm.py's calibrate).
template <class F>
int64_t calls_per_block(F&& fn, double min_block_s = 0.1) {
  fn();
  double t0 = now_s();
  fn();
  double one = now_s() - t0;
  return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(min_block_s / std::max(one, 1e-9))));
}

// Time of one block of k back-to-back calls, divided by k: seconds per call.
template <class F>
double time_block(F&& fn, int64_t k) {
  double t0 = now_s();
  for (int64_t i = 0; i < k; ++i) fn();
  return (now_s() - t0) / static_cast<double>(k);
}

// The CPU time this process has used so far, in seconds (getrusage): take it before
// and after the timed steps and divide the difference by their number.
struct CpuSeconds {
  double user = 0, sys = 0;
};
inline CpuSeconds cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + 1e-6 * static_cast<double>(t.tv_usec); };
  return {secs(ru.ru_utime), secs(ru.ru_stime)};
}

// A "VmXXX:" field of /proc/<pid>/status in bytes (0 if absent): "VmRSS:" the memory
// held now, "VmHWM:" its peak so far.
inline double status_bytes(const std::string& path, const char* field) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return 0;
  char line[256];
  double v = 0;
  const size_t len = std::strlen(field);
  while (std::fgets(line, sizeof line, f))
    if (std::strncmp(line, field, len) == 0) {
      v = std::atof(line + len) * 1024.0;
      break;
    }
  std::fclose(f);
  return v;
}

// Hypervisor steal time so far, in seconds summed over all CPUs (/proc/stat, the
// 8th number of the "cpu" line), as the Python scripts record it. 0 if unreadable.
inline double steal_seconds() {
  std::ifstream f("/proc/stat");
  std::string cpu;
  double v[8] = {};
  if (!(f >> cpu) || cpu != "cpu") return 0;
  for (double& x : v)
    if (!(f >> x)) return 0;
  return v[7] / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// How many timed iterations follow a warm-up iteration of t_w seconds (the spec's
// attention.py rule): about 2 s of short iterations (10 to 30), 10 up to 0.5 s,
// then about 10 s worth (3 to 10), and a single one past 10 s.
inline int timed_repetitions(double t_w) {
  if (t_w < 0.1) return std::min(30, std::max(10, static_cast<int>(2.0 / t_w)));
  if (t_w < 0.5) return 10;
  if (t_w < 10) return std::min(10, std::max(3, static_cast<int>(10.0 / t_w)));
  return 1;
}

}  // namespace bench

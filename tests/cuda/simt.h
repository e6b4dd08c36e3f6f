// tests/cuda/simt.h — runs CUDA kernel bodies on the CPU, so that tests check them
// on machines without a GPU.
//
// Include it before any core/cuda/kernels/*.cuh header. It supplies what those
// bodies use from CUDA: dim3, threadIdx / blockIdx / blockDim / gridDim, the
// qualifiers (__global__, __device__, __host__, __forceinline__, __shared__),
// __syncthreads, __syncwarp, warp shuffles, atomics, a few device math functions,
// and simt::launch, which stands in for kernel<<<grid, block, smem>>>(args...).
//
// How a launch runs:
// - Blocks run one after another, in order of their linear index.
// - The threads of a block are real threads (one std::thread per thread of the
//   block, reused for every block of the launch), but they take turns: exactly one
//   runs at a time, and it hands over only when it reaches a barrier (__syncthreads,
//   __syncwarp, a shuffle) or finishes. Turns go round in thread order, 0, 1, 2, ...
//   (or the reverse, see simt::Order), so a run is deterministic. Between two
//   barriers thread 0 therefore runs before thread 1 has started: a thread reading
//   a shared value that a later thread writes before the barrier — a missing
//   __syncthreads — reads a stale value every time, not once in a while. Running
//   the same kernel in both orders also catches the mirror case (a value written by
//   an earlier thread and overwritten too early).
// - __shared__ is defined as `static`: a kernel's shared array is one static array,
//   which is per-block storage because blocks never overlap. It is NOT zeroed per
//   block (neither is CUDA's): a kernel must write its shared memory before reading
//   it. Dynamic shared memory (simt::dynamic_shared<T>(), through TA_DYNAMIC_SHARED
//   in core/cuda/device_compat.h) is filled with 0xff bytes (NaN as a float, -1 as
//   an int) at the start of every block, so reading it unwritten shows up.
// - Threads that have returned count as arrived at every later barrier, as on the
//   GPU. Lanes of a warp are threads with the same linear index / 32; a shuffle is a
//   barrier over the warp's live lanes, and reading from a lane that does not exist
//   or did not take part in the shuffle (it had returned) stops the program with a
//   message (undefined on the GPU).
//
// What it does not model: timing and occupancy, memory coalescing, bank conflicts,
// the limits on shared memory and registers, races between threads that a barrier
// happens to separate here but not on the GPU (threads never overlap here), warp
// divergence beyond the shuffles and __syncwarp below (the lane mask is not
// checked: every live lane of the warp must take part), and the device's own math
// library (expf and friends are the host's, so results may differ from the GPU by
// an ulp or two). A kernel that spins waiting for another thread never finishes.
#pragma once

#define TA_SIMT_EMULATION 1

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <semaphore>
#include <thread>
#include <tuple>
#include <type_traits>
#include <vector>

// ---- the CUDA names a kernel body sees -------------------------------------

struct dim3 {
  unsigned x = 1, y = 1, z = 1;
  constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};

inline thread_local dim3 threadIdx{0, 0, 0};
inline thread_local dim3 blockIdx{0, 0, 0};
inline thread_local dim3 blockDim;
inline thread_local dim3 gridDim;

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static

// Device math the host lacks (the others — expf, logf, sqrtf, fmaxf, fminf, tanhf,
// erff, INFINITY — come from <cmath>).
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline float __expf(float x) { return std::exp(x); }
inline float __logf(float x) { return std::log(x); }

namespace simt {

// The order in which the threads of a block take turns.
enum class Order { Forward, Reverse };

namespace detail {

constexpr unsigned kWarpSize = 32;

enum class ThreadState { Running, AtBlockBarrier, AtWarpBarrier, Done };

[[noreturn]] inline void fail(const char* what) {
  std::fprintf(stderr, "simt: %s\n", what);
  std::abort();
}

// One launch: the grid walked block by block, and the turn-taking of one block's
// threads. Only the thread holding the turn touches this state; the semaphores that
// pass the turn on order its writes before the next thread's reads.
class Launch {
 public:
  Launch(dim3 grid, dim3 block, size_t smem_bytes, Order order)
      : grid_(grid),
        block_(block),
        threads_(block.x * block.y * block.z),
        blocks_(static_cast<uint64_t>(grid.x) * grid.y * grid.z),
        order_(order),
        state_(threads_, ThreadState::Running),
        warp_arrivals_((threads_ + kWarpSize - 1) / kWarpSize, 0),
        exchange_{std::vector<Slot>(threads_), std::vector<Slot>(threads_)},
        smem_((smem_bytes + 15) / 16 + 1) {
    for (unsigned t = 0; t < threads_; ++t) turn_.push_back(std::make_unique<std::binary_semaphore>(0));
  }

  // Runs body() as every thread of every block; returns when the grid is done.
  void run(const std::function<void()>& body) {
    if (blocks_ == 0 || threads_ == 0) return;
    std::vector<std::thread> workers;
    for (unsigned t = 0; t < threads_; ++t) workers.emplace_back([this, t, &body] { work(t, body); });
    start_block();
    turn_[first()]->release();
    for (std::thread& w : workers) w.join();
  }

  // __syncthreads: wait until every live thread of the block has arrived.
  void block_barrier(unsigned t) {
    state_[t] = ThreadState::AtBlockBarrier;
    ++block_arrivals_;
    release_completed_barriers();
    pass_turn(t);
  }

  // __syncwarp and the two halves of a shuffle: wait for the warp's live lanes.
  void warp_barrier(unsigned t) {
    state_[t] = ThreadState::AtWarpBarrier;
    ++warp_arrivals_[t / kWarpSize];
    release_completed_barriers();
    pass_turn(t);
  }

  // What thread t published in its latest shuffle of this parity, and which
  // shuffle of the block that was (1, 2, ...; 0 for none yet).
  struct Slot {
    uint64_t value = 0;
    unsigned serial = 0;
  };
  Slot* exchange_slot(unsigned parity, unsigned t) { return t < threads_ ? &exchange_[parity][t] : nullptr; }
  void* dynamic_shared() { return smem_.data(); }

 private:
  void work(unsigned t, const std::function<void()>& body);

  unsigned first() const { return order_ == Order::Forward ? 0 : threads_ - 1; }
  unsigned next(unsigned t) const {
    if (order_ == Order::Forward) return t + 1 == threads_ ? 0 : t + 1;
    return t == 0 ? threads_ - 1 : t - 1;
  }

  void start_block() {
    uint64_t b = block_linear_;
    block_index_ = dim3(static_cast<unsigned>(b % grid_.x), static_cast<unsigned>(b / grid_.x % grid_.y),
                        static_cast<unsigned>(b / grid_.x / grid_.y));
    std::fill(state_.begin(), state_.end(), ThreadState::Running);
    for (auto& buffer : exchange_) std::fill(buffer.begin(), buffer.end(), Slot{});
    std::memset(static_cast<void*>(smem_.data()), 0xff, smem_.size() * sizeof(smem_[0]));
  }

  // A barrier is complete when every live thread of its group waits at it.
  void release_completed_barriers() {
    unsigned live = 0;
    for (ThreadState s : state_) live += s != ThreadState::Done;
    if (block_arrivals_ > 0 && block_arrivals_ == live) {
      for (ThreadState& s : state_)
        if (s == ThreadState::AtBlockBarrier) s = ThreadState::Running;
      block_arrivals_ = 0;
    }
    for (unsigned w = 0; w < warp_arrivals_.size(); ++w) {
      unsigned begin = w * kWarpSize, end = std::min(threads_, begin + kWarpSize), warp_live = 0;
      for (unsigned t = begin; t < end; ++t) warp_live += state_[t] != ThreadState::Done;
      if (warp_arrivals_[w] == 0 || warp_arrivals_[w] != warp_live) continue;
      for (unsigned t = begin; t < end; ++t)
        if (state_[t] == ThreadState::AtWarpBarrier) state_[t] = ThreadState::Running;
      warp_arrivals_[w] = 0;
    }
  }

  // Gives the turn to the next running thread after t (in turn order) and, unless
  // t has finished, waits until the turn comes back to t.
  void pass_turn(unsigned t) {
    unsigned u = next(t);
    for (unsigned step = 0; step < threads_ && state_[u] != ThreadState::Running; ++step) u = next(u);
    if (state_[u] != ThreadState::Running) {
      bool all_done = std::all_of(state_.begin(), state_.end(), [](ThreadState s) { return s == ThreadState::Done; });
      if (!all_done) fail("deadlock: threads wait at barriers that can never complete (divergent __syncthreads?)");
      end_block();
      return;
    }
    if (u == t) return;  // t is the only thread able to run: it keeps the turn
    const bool t_waits = state_[t] != ThreadState::Done;  // read before u may change it
    turn_[u]->release();
    if (t_waits) turn_[t]->acquire();
  }

  // Every thread has returned: start the next block, or let every worker return.
  void end_block() {
    if (++block_linear_ < blocks_) {
      start_block();
      turn_[first()]->release();
      return;
    }
    finished_ = true;
    for (auto& s : turn_) s->release();
  }

  dim3 grid_, block_;
  unsigned threads_;
  uint64_t blocks_;
  Order order_;
  std::vector<ThreadState> state_;
  std::vector<std::unique_ptr<std::binary_semaphore>> turn_;
  unsigned block_arrivals_ = 0;
  std::vector<unsigned> warp_arrivals_;
  std::vector<Slot> exchange_[2];  // one slot per thread; shuffles alternate between the two
  std::vector<std::max_align_t> smem_;
  uint64_t block_linear_ = 0;
  dim3 block_index_;
  bool finished_ = false;
};

// Which launch and which thread of it the calling thread is.
inline thread_local Launch* current = nullptr;
inline thread_local unsigned current_thread = 0;
inline thread_local unsigned shuffles_done = 0;

inline Launch& launch_of_caller(const char* what) {
  if (!current) fail(what);
  return *current;
}

inline void Launch::work(unsigned t, const std::function<void()>& body) {
  current = this;
  current_thread = t;
  threadIdx = dim3(t % block_.x, t / block_.x % block_.y, t / block_.x / block_.y);
  blockDim = block_;
  gridDim = grid_;
  for (;;) {
    turn_[t]->acquire();
    if (finished_) break;
    blockIdx = block_index_;
    shuffles_done = 0;
    body();
    state_[t] = ThreadState::Done;
    release_completed_barriers();
    pass_turn(t);
  }
  current = nullptr;
}

// A shuffle: every lane publishes v, waits for the warp, and reads lane src_of(lane)
// (or keeps v where src_of says so by returning -1). The two exchange buffers
// alternate, so a lane that races ahead into the next shuffle never overwrites a
// value another lane has yet to read; the serial number tells whether the source
// lane took part in this very shuffle.
template <class T, class SourceLane>
T shuffle(T v, SourceLane src_of) {
  static_assert(sizeof(T) <= sizeof(uint64_t) && std::is_trivially_copyable_v<T>, "shuffle: 4- or 8-byte values");
  Launch& l = launch_of_caller("a warp shuffle outside simt::launch");
  const unsigned t = current_thread, lane = t % kWarpSize, warp_base = t - lane;
  const unsigned serial = ++shuffles_done, parity = serial & 1;
  Launch::Slot* mine = l.exchange_slot(parity, t);
  std::memcpy(&mine->value, &v, sizeof(T));
  mine->serial = serial;
  l.warp_barrier(t);
  int src = src_of(static_cast<int>(lane));
  if (src < 0) return v;
  const Launch::Slot* theirs = l.exchange_slot(parity, warp_base + static_cast<unsigned>(src));
  if (!theirs || theirs->serial != serial) fail("a shuffle reads a lane that does not exist or did not take part in it");
  T out;
  std::memcpy(&out, &theirs->value, sizeof(T));
  return out;
}

}  // namespace detail

// Runs kernel(args...) over the grid, as kernel<<<grid, block, dynamic_smem_bytes>>>(args...)
// would; the arguments are copied first, as a launch copies them. An empty grid or
// block runs nothing.
template <class... Params, class... Args>
void launch(void (*kernel)(Params...), dim3 grid, dim3 block, size_t dynamic_smem_bytes, Args&&... args) {
  static_assert(sizeof...(Params) == sizeof...(Args), "simt::launch: wrong number of kernel arguments");
  std::tuple<std::decay_t<Params>...> params(std::forward<Args>(args)...);
  detail::Launch l(grid, block, dynamic_smem_bytes, Order::Forward);
  l.run([&] { std::apply(kernel, params); });
}

// The same, with the threads of each block taking turns in the given order.
template <class... Params, class... Args>
void launch_in_order(Order order, void (*kernel)(Params...), dim3 grid, dim3 block, size_t dynamic_smem_bytes,
                     Args&&... args) {
  std::tuple<std::decay_t<Params>...> params(std::forward<Args>(args)...);
  detail::Launch l(grid, block, dynamic_smem_bytes, order);
  l.run([&] { std::apply(kernel, params); });
}

// A launcher object with launch's signature, for the launch plans of
// core/cuda/kernels/*.cuh (which take the launcher as an argument: the backend
// passes ta::cuda::Launcher, tests pass this one).
struct Launcher {
  Order order = Order::Forward;
  template <class... Params, class... Args>
  void operator()(void (*kernel)(Params...), dim3 grid, dim3 block, size_t smem, Args&&... args) const {
    launch_in_order(order, kernel, grid, block, smem, std::forward<Args>(args)...);
  }
};

// The current block's dynamic shared memory (the launch's dynamic_smem_bytes).
template <class T>
T* dynamic_shared() {
  return static_cast<T*>(detail::launch_of_caller("dynamic shared memory outside simt::launch").dynamic_shared());
}

}  // namespace simt

// ---- barriers, shuffles and atomics ------------------------------------------

inline void __syncthreads() {
  simt::detail::launch_of_caller("__syncthreads outside simt::launch").block_barrier(simt::detail::current_thread);
}
inline void __syncwarp(unsigned /*mask*/ = 0xffffffffu) {
  simt::detail::launch_of_caller("__syncwarp outside simt::launch").warp_barrier(simt::detail::current_thread);
}

// Within segments of `width` lanes (a power of two up to 32), as in CUDA.
template <class T>
T __shfl_sync(unsigned /*mask*/, T v, int src_lane, int width = 32) {
  return simt::detail::shuffle(v, [&](int lane) { return (lane & ~(width - 1)) + (src_lane & (width - 1)); });
}
template <class T>
T __shfl_down_sync(unsigned /*mask*/, T v, unsigned delta, int width = 32) {
  return simt::detail::shuffle(v, [&](int lane) {
    return (lane & (width - 1)) + static_cast<int>(delta) < width ? lane + static_cast<int>(delta) : -1;
  });
}
template <class T>
T __shfl_up_sync(unsigned /*mask*/, T v, unsigned delta, int width = 32) {
  return simt::detail::shuffle(
      v, [&](int lane) { return (lane & (width - 1)) >= static_cast<int>(delta) ? lane - static_cast<int>(delta) : -1; });
}
template <class T>
T __shfl_xor_sync(unsigned /*mask*/, T v, int lane_mask, int width = 32) {
  return simt::detail::shuffle(v, [&](int lane) {
    int src = lane ^ lane_mask;
    return (src & ~(width - 1)) == (lane & ~(width - 1)) ? src : -1;
  });
}

// Each returns the old value, as CUDA's do.
inline float atomicAdd(float* address, float v) { return std::atomic_ref<float>(*address).fetch_add(v); }
inline double atomicAdd(double* address, double v) { return std::atomic_ref<double>(*address).fetch_add(v); }
inline int atomicAdd(int* address, int v) { return std::atomic_ref<int>(*address).fetch_add(v); }
inline unsigned atomicAdd(unsigned* address, unsigned v) { return std::atomic_ref<unsigned>(*address).fetch_add(v); }
inline int atomicMax(int* address, int v) {
  std::atomic_ref<int> a(*address);
  int old = a.load();
  while (old < v && !a.compare_exchange_weak(old, v)) {
  }
  return old;
}

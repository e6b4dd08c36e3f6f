// core/cpu/gemm/driver.cpp — the loops around the micro-kernel (blocking.h draws them).
#include "core/cpu/gemm/driver.h"

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <new>

namespace ta::cpu::gemm {

namespace {

// A buffer of floats aligned to a cache line, grown on demand and never shrunk.
class PackBuffer {
 public:
  float* get(int64_t n) {
    if (n > capacity_) {
      const size_t bytes = (static_cast<size_t>(n) * sizeof(float) + 63) / 64 * 64;
      data_.reset(static_cast<float*>(std::aligned_alloc(64, bytes)));
      if (!data_) throw std::bad_alloc();
      capacity_ = n;
    }
    return data_.get();
  }

 private:
  struct Free {
    void operator()(float* p) const { std::free(p); }
  };
  std::unique_ptr<float, Free> data_;
  int64_t capacity_ = 0;
};

// Each thread packs into its own buffers, kept for the thread's life: after the first
// products, packing allocates nothing (and OpenMP keeps its threads).
struct PackBuffers {
  PackBuffer a, b;
};
PackBuffers& pack_buffers() {
  thread_local PackBuffers buffers;
  return buffers;
}

// Asks for part q of `parts` of a block of A (rows [w0, w0 + rows) x depth [p0, p0 + kc))
// to be brought into cache, one cache line (16 floats) per request. The driver spreads
// the next block over the micro-kernel calls of the current one: packing then finds it
// in cache instead of waiting on L3 for rows too short (KC floats) for the hardware
// prefetcher to follow. (noipa: GCC takes a function that only prefetches for one
// without effects once it has looked inside, and drops its calls; clang has no noipa,
// and keeps prefetches as effects.)
#if defined(__clang__)
#define TA_KEEP_PREFETCH_CALLS [[gnu::noinline]]
#else
#define TA_KEEP_PREFETCH_CALLS [[gnu::noipa]]
#endif
TA_KEEP_PREFETCH_CALLS void prefetch_part(const StripSource& x, int64_t w0, int64_t rows, int64_t p0, int64_t kc, int64_t q, int64_t parts) {
  if (x.contiguous == Contiguous::Depth) {  // rows of kc floats
    for (int64_t r = q * rows / parts; r < (q + 1) * rows / parts; ++r)
      for (int64_t k = 0; k < kc; k += 16) __builtin_prefetch(x.data + (w0 + r) * x.ld + p0 + k);
  } else {  // kc rows of `rows` floats
    for (int64_t k = q * kc / parts; k < (q + 1) * kc / parts; ++k)
      for (int64_t r = 0; r < rows; r += 16) __builtin_prefetch(x.data + (p0 + k) * x.ld + w0 + r);
  }
}

}  // namespace

void multiply_block(const MicroKernel& kernel, const Product& p, int64_t i0, int64_t i1, int64_t j0, int64_t j1,
                    const Blocking& blocking) {
  if (i0 >= i1 || j0 >= j1) return;
  const int64_t MR = kernel.mr, NR = kernel.nr;
  // alpha = 0 or K = 0: an empty product, one pass of depth 0 (C = beta C + bias, then act).
  const int64_t K = p.alpha == 0.0f ? 0 : p.K;
  const StripSource a_rows{p.A, p.lda, p.ta == Transpose::No ? Contiguous::Depth : Contiguous::Width};
  const StripSource b_columns{p.B, p.ldb, p.tb == Transpose::No ? Contiguous::Width : Contiguous::Depth};
  const Cut m_cut = cut_evenly(i1 - i0, blocking.mc, MR), n_cut = cut_evenly(j1 - j0, blocking.nc, NR),
            k_cut = cut_evenly(K, blocking.kc, 1);
  const int64_t kc_max = std::max<int64_t>(k_cut.block_size, 1);
  PackBuffers& buffers = pack_buffers();
  float* a = buffers.a.get((m_cut.block_size + MR - 1) / MR * MR * kc_max);
  float* b = buffers.b.get((n_cut.block_size + NR - 1) / NR * NR * kc_max);

  for (int64_t jc = j0; jc < j1; jc += n_cut.block_size) {
    const int64_t nc = std::min(n_cut.block_size, j1 - jc);
    for (int64_t q = 0; q < k_cut.count; ++q) {
      const int64_t pc = q * k_cut.block_size, kc = std::min(k_cut.block_size, K - pc);
      const bool first = q == 0, last = q == k_cut.count - 1;
      kernel.pack_b(b_columns, jc, nc, pc, kc, b);
      for (int64_t ic = i0; ic < i1; ic += m_cut.block_size) {
        const int64_t mc = std::min(m_cut.block_size, i1 - ic);
        kernel.pack_a(a_rows, ic, mc, pc, kc, a);
        // While this block computes, the next one is fetched, a part per micro-kernel call.
        const int64_t next_rows = std::min(m_cut.block_size, i1 - ic - mc);
        const int64_t calls = (mc + MR - 1) / MR * ((nc + NR - 1) / NR);
        int64_t call = 0;
        for (int64_t ir = ic; ir < ic + mc; ir += MR)
          for (int64_t jr = jc; jr < jc + nc; jr += NR, ++call) {
            if (next_rows > 0) prefetch_part(a_rows, ic + mc, next_rows, pc, kc, call, calls);
            // The first depth block applies the caller's beta, later ones add onto C; the
            // last one finishes (bias, pre-activation, activation).
            const TileWrite out{p.C + ir * p.ldc + jr,
                                last && p.epilogue.pre_activation ? p.epilogue.pre_activation + ir * p.ldc + jr
                                                                  : nullptr,
                                p.ldc,
                                std::min(MR, ic + mc - ir),
                                std::min(NR, jc + nc - jr),
                                p.alpha,
                                first ? p.beta : 1.0f,
                                last && p.epilogue.bias ? p.epilogue.bias + jr : nullptr,
                                last ? p.epilogue.activation : EpilogueActivation::None};
            kernel.multiply(kc, a + (ir - ic) * kc, b + (jr - jc) * kc, out);
          }
      }
    }
  }
}

void multiply(const MicroKernel& kernel, const Product& p, const Blocking& blocking) {
  multiply_block(kernel, p, 0, p.M, 0, p.N, blocking);
}

}  // namespace ta::cpu::gemm

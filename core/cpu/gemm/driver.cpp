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

}  // namespace

void multiply_block(const MicroKernel& kernel, const Product& p, int64_t i0, int64_t i1, int64_t j0, int64_t j1,
                    const Blocking& blocking) {
  if (i0 >= i1 || j0 >= j1) return;
  const int64_t MR = kernel.mr, NR = kernel.nr;
  // alpha = 0 or K = 0: an empty product, one pass of depth 0 (C = beta C + bias, then act).
  const int64_t K = p.alpha == 0.0f ? 0 : p.K;
  const StripSource a_rows{p.A, p.lda, p.ta == Transpose::No ? Contiguous::Depth : Contiguous::Width};
  const StripSource b_columns{p.B, p.ldb, p.tb == Transpose::No ? Contiguous::Width : Contiguous::Depth};
  const Cut n_cut = cut_evenly(j1 - j0, blocking.nc, NR), k_cut = cut_evenly(K, blocking.kc, 1);
  PackBuffers& buffers = pack_buffers();
  float* a = buffers.a.get(MR * std::max<int64_t>(k_cut.block_size, 1));
  float* b = buffers.b.get((n_cut.block_size + NR - 1) / NR * NR * std::max<int64_t>(k_cut.block_size, 1));

  for (int64_t jc = j0; jc < j1; jc += n_cut.block_size) {
    const int64_t nc = std::min(n_cut.block_size, j1 - jc);
    for (int64_t q = 0; q < k_cut.count; ++q) {
      const int64_t pc = q * k_cut.block_size, kc = std::min(k_cut.block_size, K - pc);
      const bool first = q == 0, last = q == k_cut.count - 1;
      kernel.pack_b(b_columns, jc, nc, pc, kc, b);
      for (int64_t ir = i0; ir < i1; ir += MR) {
        const int64_t rows = std::min(MR, i1 - ir);
        kernel.pack_a(a_rows, ir, rows, pc, kc, a);
        for (int64_t jr = jc; jr < jc + nc; jr += NR) {
          // The first depth block applies the caller's beta, later ones add onto C; the
          // last one finishes (bias, pre-activation, activation).
          const TileWrite out{p.C + ir * p.ldc + jr,
                              last && p.epilogue.pre_activation ? p.epilogue.pre_activation + ir * p.ldc + jr
                                                                : nullptr,
                              p.ldc,
                              rows,
                              std::min(NR, jc + nc - jr),
                              p.alpha,
                              first ? p.beta : 1.0f,
                              last && p.epilogue.bias ? p.epilogue.bias + jr : nullptr,
                              last ? p.epilogue.activation : EpilogueActivation::None};
          kernel.multiply(kc, a, b + (jr - jc) * kc, out);
        }
      }
    }
  }
}

void multiply(const MicroKernel& kernel, const Product& p, const Blocking& blocking) {
  multiply_block(kernel, p, 0, p.M, 0, p.N, blocking);
}

}  // namespace ta::cpu::gemm

// core/cpu/gemm/blocking.h — how the project's GEMM cuts C = op(A) op(B) to fit the caches.
//
// The method is Goto's (Goto & van de Geijn 2008), as BLIS writes it (Van Zee & van de
// Geijn 2015, "BLIS: A Framework for Rapidly Instantiating BLAS Functionality"): copy
// ("pack") blocks of A and B into buffers laid out in the exact order the innermost
// kernel reads them, sized so that each stays in one level of cache while it is reused.
// The loops, outermost first (driver.cpp):
//
//   for jc over N in panels of NC columns
//     for pc over K in blocks of KC
//       pack B~ = op(B)[pc : pc+KC, jc : jc+NC], NR columns at a time     (KC x NC: in L2)
//       for ic over M in blocks of MC
//         pack A~ = op(A)[ic : ic+MC, pc : pc+KC], MR rows at a time       (MC x KC: in L2)
//         for ir over the block in steps of MR                            (one MR x KC sliver: in L1)
//           for jr over the panel in steps of NR
//             micro-kernel: C[ir : ir+MR, jr : jr+NR] (+)= A~ sliver x B~ strip
//
// The micro-kernel (tile_kernel.h) keeps the MR x NR tile of C in vector registers:
// for each k it loads one row of B~'s NR-wide strip (NR / lanes vectors), broadcasts the
// MR values of A~'s column k, and does MR x NR / lanes fused multiply-adds. Our C is
// row-major, so the vectors run along N and A is the broadcast operand: BLIS's roles of
// A and B, written for column-major C, are swapped here (its 32 x 12 AVX-512 sgemm tile
// is our 12 x 32, its L2 block of A our B~, its L1 sliver of B our A~ sliver).
//
// The numbers, for this project's machine (AMD EPYC, Zen 5, per core: 32 vector
// registers of 16 floats, two 512-bit FMA pipes, L1d 48 KiB, L2 1 MiB; L3 32 MiB shared):
//
//   MR x NR = 12 x 32 (AVX-512): 24 accumulator registers + 2 for B~'s row + 1 broadcast
//     = 27 of 32. Each k step loads 2 vectors and 12 scalars for 24 FMAs (12 cycles at
//     2 FMAs per cycle), so the loads never limit it, and 24 independent accumulators
//     hide the FMA latency (4 cycles x 2 pipes = 8 needed).
//   KC = 256: an A~ sliver is 12 x 256 x 4 B = 12 KiB, a quarter of L1, and stays there
//     while the NC / NR strips of B~ (256 x 32 x 4 B = 32 KiB each) stream past it from
//     L2; each tile's accumulators are reused for 256 steps before C is touched.
//   NC = 512: B~ is 256 x 512 x 4 B = 512 KiB, half of L2, reused by every sliver of A.
//   MC = 96: A~ is 96 x 256 x 4 B = 96 KiB, next to B~ in L2. For a transposed A (stored
//     K x M) it makes each packed row of the source 96 floats, six whole cache lines:
//     slivers of 12 floats from rows 4 KiB apart fought over the same few L1 sets.
// Measured (thread time, one core, the benchmark's training shapes): KC 256 / 384 / 512,
// NC 384 to 1024 and MC 48 to 192 all land within about 5% of one another; these are in
// the middle. What mattered more: fetching ahead. Each micro-kernel call prefetches its
// tile of C (read at the end when it accumulates), and while a block of A computes, the
// next one is prefetched, a part per call: its rows of KC floats are too short for the
// hardware prefetcher, and waiting on them cost up to 10%.
//
// M, K and N are cut into blocks of nearly equal size (600 = 300 + 300, not 512 + 88), so
// no pass runs on a sliver. The AVX2 micro-kernel (6 x 16, 15 of its 16 registers) and
// the portable one (4 x 8) use the same KC, NC and MC.
#pragma once

#include <cstdint>

namespace ta::cpu::gemm {

struct Blocking {
  int64_t kc = 256;  // depth of a packed block (KC)
  int64_t nc = 512;  // columns of a packed panel of B (NC), a multiple of every kernel's NR
  int64_t mc = 96;   // rows of a packed block of A (MC), a multiple of every kernel's MR
};

// n cut into blocks of at most `limit`, all of nearly equal size, each a multiple of
// `unit` (except the last): block_size = the size of the first ones.
struct Cut {
  int64_t count, block_size;
};
inline Cut cut_evenly(int64_t n, int64_t limit, int64_t unit) {
  if (n <= limit) return {1, n};
  const int64_t count = (n + limit - 1) / limit;
  const int64_t size = ((n + count - 1) / count + unit - 1) / unit * unit;
  return {(n + size - 1) / size, size};
}

}  // namespace ta::cpu::gemm

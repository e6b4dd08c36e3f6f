// core/cpu/gemm/dispatch.cpp — choosing the micro-kernel (CPUID) and the engine (measured).
#include "core/cpu/gemm/dispatch.h"

#include <cstdlib>
#include <string>

#include "core/cpu/gemm/microkernel.h"
#include "core/error.h"

namespace ta::cpu::gemm {

std::vector<const MicroKernel*> available_kernels() {
  std::vector<const MicroKernel*> kernels;
  if (const MicroKernel* k = avx512_kernel()) kernels.push_back(k);
  if (const MicroKernel* k = avx2_kernel()) kernels.push_back(k);
  kernels.push_back(&portable_kernel());
  return kernels;
}

const MicroKernel& best_kernel() {
  static const MicroKernel& kernel = *available_kernels().front();
  return kernel;
}

std::optional<GemmEngine> forced_engine(const char* value) {
  const std::string v = value ? value : "";
  if (v.empty() || v == "auto") return std::nullopt;
  if (v == "own") return GemmEngine::Own;
  if (v == "openblas") return GemmEngine::OpenBlas;
  throw Error(cat("TA_GEMM: got '", v, "', expected own, openblas or auto"));
}

// The policy, from build/bench gemm on this machine (1 thread, AVX-512 kernel; the shape
// classes of its table, two runs): ours is ahead on every square, training,
// attention-tile and small shape, and on thin M (one to eight tokens through a layer:
// 1.1-1.4x). OpenBLAS is ahead on thin N, where most of each 32-wide tile of ours is
// zeros: 1.7-2.2x at N = 8, 2.4-2.6x at N = 1 (matrix-vector), and 1.04-1.15x at N = 16
// (half a tile). So OpenBLAS takes the products at most half a tile wide.
GemmEngine engine_for(int64_t M, int64_t N, int64_t K) {
  static const std::optional<GemmEngine> forced = forced_engine(std::getenv("TA_GEMM"));
  if (forced) return *forced;
  (void)M, (void)K;
  return 2 * N <= best_kernel().nr ? GemmEngine::OpenBlas : GemmEngine::Own;
}

}  // namespace ta::cpu::gemm

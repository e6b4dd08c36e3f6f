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

GemmEngine engine_for(int64_t M, int64_t N, int64_t K) {
  static const std::optional<GemmEngine> forced = forced_engine(std::getenv("TA_GEMM"));
  if (forced) return *forced;
  (void)M, (void)N, (void)K;
  return GemmEngine::Own;
}

}  // namespace ta::cpu::gemm

// Optimizer updates, in place, one fused pass over the parameters each; the
// per-element steps are in core/optimizer_math.h (shared with the CUDA kernels).
#include <cmath>

#include "core/cpu/cpu_backend.h"
#include "core/cpu/parallel.h"
#include "core/optimizer_math.h"

namespace ta::cpu {

void CpuBackend::sgd_update(float* p, const float* g, float* buf, int64_t n, float lr, float momentum,
                            float weight_decay, SgdMomentum kind) {
  const SgdHyper h{lr, momentum, weight_decay, kind == SgdMomentum::Nesterov};
  parallel_for(n, 4, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) sgd_step(i, p, g, buf, h);
  });
}

void CpuBackend::adam_update(float* p, const float* g, float* m, float* v, int64_t n, float lr, float beta1,
                             float beta2, float eps, float weight_decay, WeightDecay decay, float c1, float c2) {
  const AdamHyper h = adam_hyper(lr, beta1, beta2, eps, weight_decay, decay, c1, c2);
  parallel_for(n, 8, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) adam_step(i, p, g, m, v, h);
  });
}

double CpuBackend::sum_of_squares(const float* x, int64_t n) {
  double total = 0.0;
#pragma omp parallel for reduction(+ : total) if (n > kMinParallelWork)
  for (int64_t i = 0; i < n; ++i) total += static_cast<double>(x[i]) * x[i];
  return total;
}

}  // namespace ta::cpu

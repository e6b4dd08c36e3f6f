// Optimizer updates, in place, one fused pass over the parameters each.
#include <cmath>

#include "core/cpu/cpu_backend.h"
#include "core/cpu/parallel.h"

namespace ta::cpu {

void CpuBackend::sgd_update(float* p, const float* g, float* buf, int64_t n, float lr, float momentum,
                            float weight_decay, bool nesterov, bool first_step) {
  parallel_for(n, 4, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      float d = g[i] + weight_decay * p[i];
      if (momentum == 0.0f) {
        p[i] -= lr * d;
        continue;
      }
      buf[i] = first_step ? d : momentum * buf[i] + d;
      p[i] -= lr * (nesterov ? d + momentum * buf[i] : buf[i]);
    }
  });
}

void CpuBackend::adam_update(float* p, const float* g, float* m, float* v, int64_t n, float lr, float beta1,
                             float beta2, float eps, float weight_decay, bool decoupled, float c1, float c2) {
  const float inv_c1 = 1.0f / c1, inv_sqrt_c2 = 1.0f / std::sqrt(c2);
  parallel_for(n, 8, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      float gi = decoupled ? g[i] : g[i] + weight_decay * p[i];
      if (decoupled) p[i] -= lr * weight_decay * p[i];
      m[i] = beta1 * m[i] + (1.0f - beta1) * gi;
      v[i] = beta2 * v[i] + (1.0f - beta2) * gi * gi;
      p[i] -= lr * (m[i] * inv_c1) / (std::sqrt(v[i]) * inv_sqrt_c2 + eps);
    }
  });
}

double CpuBackend::sum_of_squares(const float* x, int64_t n) {
  double total = 0.0;
#pragma omp parallel for reduction(+ : total) if (n > kMinParallelWork)
  for (int64_t i = 0; i < n; ++i) total += static_cast<double>(x[i]) * x[i];
  return total;
}

}  // namespace ta::cpu

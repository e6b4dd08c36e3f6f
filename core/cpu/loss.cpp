// Fused cross-entropy over logits with integer targets: log-softmax and the
// negative log-likelihood in one pass per row, never materializing the softmax.
#include <cmath>
#include <limits>

#include "core/cpu/cpu_backend.h"
#include "core/cpu/parallel.h"
#include "core/fast_math.h"

namespace ta::cpu {

// loss_r = lse_r - logits[r, t_r] with lse_r = m + log sum_c exp(logits[r, c] - m).
void CpuBackend::cross_entropy(const float* logits, const float* targets, float* loss, float* lse, int64_t rows,
                               int64_t classes, int64_t ignore_index) {
  parallel_for(rows, 4 * classes, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const float* z = logits + r * classes;
      float m = -std::numeric_limits<float>::infinity();
      for (int64_t c = 0; c < classes; ++c) m = std::fmax(m, z[c]);
      float s = 0.0f;
#pragma omp simd reduction(+ : s)
      for (int64_t c = 0; c < classes; ++c) s += fast_exp(z[c] - m);
      lse[r] = m + std::log(s);
      int64_t t = static_cast<int64_t>(targets[r]);
      loss[r] = (t == ignore_index) ? 0.0f : lse[r] - z[t];
    }
  });
}

// d loss_r / d logits[r, c] = softmax_c - [c == t_r]; the caller's scale folds in the
// upstream gradient and the 1/count of the mean.
void CpuBackend::cross_entropy_backward(const float* logits, const float* targets, const float* lse, const float* scale,
                                        float* dlogits, int64_t rows, int64_t classes, int64_t ignore_index) {
  const float g = scale[0];
  parallel_for(rows, 4 * classes, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const float* z = logits + r * classes;
      float* dz = dlogits + r * classes;
      int64_t t = static_cast<int64_t>(targets[r]);
      if (t == ignore_index) {
        for (int64_t c = 0; c < classes; ++c) dz[c] = 0.0f;
        continue;
      }
      for (int64_t c = 0; c < classes; ++c) dz[c] = g * fast_exp(z[c] - lse[r]);
      dz[t] -= g;
    }
  });
}

}  // namespace ta::cpu

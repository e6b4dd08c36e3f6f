// Fused LayerNorm / RMSNorm over the last axis: one pass for the statistics and one
// for the output, instead of the nine element-wise passes the composed form takes.
#include <cmath>
#include <vector>

#include <omp.h>

#include "core/cpu/cpu_backend.h"
#include "core/cpu/parallel.h"

namespace ta::cpu {

void CpuBackend::layer_norm(const float* x, const float* gamma, const float* beta, float* y, float* mean, float* rstd,
                            int64_t rows, int64_t dim, float eps, LayerNormKind kind) {
  const bool subtract_mean = kind == LayerNormKind::LayerNorm;
  parallel_for(rows, 4 * dim, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const float* xr = x + r * dim;
      float* yr = y + r * dim;
      float mu = 0.0f;
      if (subtract_mean) {
#pragma omp simd reduction(+ : mu)
        for (int64_t i = 0; i < dim; ++i) mu += xr[i];
        mu /= dim;
      }
      float var = 0.0f;
#pragma omp simd reduction(+ : var)
      for (int64_t i = 0; i < dim; ++i) var += (xr[i] - mu) * (xr[i] - mu);
      const float rs = 1.0f / std::sqrt(var / dim + eps);
      mean[r] = mu;
      rstd[r] = rs;
      for (int64_t i = 0; i < dim; ++i) {
        float v = (xr[i] - mu) * rs;
        if (gamma) v *= gamma[i];
        if (beta) v += beta[i];
        yr[i] = v;
      }
    }
  });
}

// dgamma and dbeta sum over rows; each thread sums its rows into a private row,
// and the private rows are added at the end (no atomics, same result any order
// within a thread count).
void CpuBackend::layer_norm_backward(const float* x, const float* gamma, const float* mean, const float* rstd,
                                     const float* dy, float* dx, float* dgamma, float* dbeta, int64_t rows,
                                     int64_t dim, LayerNormKind kind) {
  const bool subtract_mean = kind == LayerNormKind::LayerNorm;
  const bool parallel = rows * dim * 6 >= kMinParallelWork && omp_get_max_threads() > 1;
  const int threads = parallel ? omp_get_max_threads() : 1;
  std::vector<float> partial(static_cast<size_t>(threads) * 2 * dim, 0.0f);
  auto body = [&](int64_t b, int64_t e, float* pg, float* pb) {
    std::vector<float> dxhat(dim);
    for (int64_t r = b; r < e; ++r) {
      const float* xr = x + r * dim;
      const float* dyr = dy + r * dim;
      float* dxr = dx + r * dim;
      const float mu = mean[r], rs = rstd[r];
      float sum_dxhat = 0.0f, sum_dxhat_xhat = 0.0f;
      for (int64_t i = 0; i < dim; ++i) {
        float xhat = (xr[i] - mu) * rs;
        dxhat[i] = gamma ? dyr[i] * gamma[i] : dyr[i];
        sum_dxhat += dxhat[i];
        sum_dxhat_xhat += dxhat[i] * xhat;
        pg[i] += dyr[i] * xhat;
        pb[i] += dyr[i];
      }
      const float m1 = subtract_mean ? sum_dxhat / dim : 0.0f, m2 = sum_dxhat_xhat / dim;
      for (int64_t i = 0; i < dim; ++i) dxr[i] = rs * (dxhat[i] - m1 - (xr[i] - mu) * rs * m2);
    }
  };
  if (!parallel) {
    body(0, rows, partial.data(), partial.data() + dim);
  } else {
#pragma omp parallel num_threads(threads)
    {
      int t = omp_get_thread_num(), nt = omp_get_num_threads();
      int64_t chunk = (rows + nt - 1) / nt, b = t * chunk, e = std::min(rows, b + chunk);
      float* pg = partial.data() + static_cast<size_t>(t) * 2 * dim;
      if (b < e) body(b, e, pg, pg + dim);
    }
  }
  for (int64_t i = 0; i < dim; ++i) {
    float g = 0.0f, bsum = 0.0f;
    for (int t = 0; t < threads; ++t) {
      g += partial[static_cast<size_t>(t) * 2 * dim + i];
      bsum += partial[static_cast<size_t>(t) * 2 * dim + dim + i];
    }
    if (dgamma) dgamma[i] = g;
    if (dbeta) dbeta[i] = bsum;
  }
}

}  // namespace ta::cpu

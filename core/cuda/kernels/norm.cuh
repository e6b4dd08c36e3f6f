// core/cuda/kernels/norm.cuh — fused LayerNorm / RMSNorm over the last axis of
// [rows, dim], forward and backward; one block per row (lines.cuh), as the CPU
// backend's core/cpu/norm.cpp computes it.
#pragma once

#include <cstdint>

#include "core/backend.h"
#include "core/cuda/device_compat.h"
#include "core/cuda/kernels/lines.cuh"

namespace ta::cuda_kernels {

// mu = mean(x) (LayerNorm) or 0 (RMSNorm), rstd = 1 / sqrt(mean((x - mu)^2) + eps),
// y = (x - mu) rstd gamma + beta (gamma, beta optional); mean and rstd saved per row.
struct LayerNormLine {
  const float* x;
  const float* gamma;
  const float* beta;
  float* y;
  float* mean;
  float* rstd;
  float eps;
  bool subtract_mean;
  template <class Walk>
  __device__ void operator()(const Walk& walk, int64_t row, int64_t base, int64_t stride) const {
    const float* xr = x + base;
    float* yr = y + base;
    const int64_t dim = walk.n;
    float mu = 0.0f;
    if (subtract_mean) {
      float s = 0.0f;
      for (int64_t i = walk.first(); i < dim; i += walk.step()) s += xr[i * stride];
      mu = walk.combine(s, SumOp()) / static_cast<float>(dim);
    }
    float var = 0.0f;
    for (int64_t i = walk.first(); i < dim; i += walk.step()) var += (xr[i * stride] - mu) * (xr[i * stride] - mu);
    const float rs = 1.0f / sqrtf(walk.combine(var, SumOp()) / static_cast<float>(dim) + eps);
    if (walk.leader()) {
      mean[row] = mu;
      rstd[row] = rs;
    }
    for (int64_t i = walk.first(); i < dim; i += walk.step()) {
      float v = (xr[i * stride] - mu) * rs;
      if (gamma) v *= gamma[i];
      if (beta) v += beta[i];
      yr[i * stride] = v;
    }
  }
};

// With xhat = (x - mu) rstd and dxhat = dy gamma:
//   dx = rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat))   (RMSNorm: no mean(dxhat) term)
struct LayerNormBackwardLine {
  const float* x;
  const float* gamma;
  const float* mean;
  const float* rstd;
  const float* dy;
  float* dx;
  bool subtract_mean;
  template <class Walk>
  __device__ void operator()(const Walk& walk, int64_t row, int64_t base, int64_t stride) const {
    const float *xr = x + base, *dyr = dy + base;
    float* dxr = dx + base;
    const float mu = mean[row], rs = rstd[row];
    const int64_t dim = walk.n;
    float sum_dxhat = 0.0f, sum_dxhat_xhat = 0.0f;
    for (int64_t i = walk.first(); i < dim; i += walk.step()) {
      const float dxhat = gamma ? dyr[i * stride] * gamma[i] : dyr[i * stride];
      sum_dxhat += dxhat;
      sum_dxhat_xhat += dxhat * (xr[i * stride] - mu) * rs;
    }
    sum_dxhat = walk.combine(sum_dxhat, SumOp());
    sum_dxhat_xhat = walk.combine(sum_dxhat_xhat, SumOp());
    const float m1 = subtract_mean ? sum_dxhat / static_cast<float>(dim) : 0.0f;
    const float m2 = sum_dxhat_xhat / static_cast<float>(dim);
    for (int64_t i = walk.first(); i < dim; i += walk.step()) {
      const float dxhat = gamma ? dyr[i * stride] * gamma[i] : dyr[i * stride];
      dxr[i * stride] = rs * (dxhat - m1 - (xr[i * stride] - mu) * rs * m2);
    }
  }
};

// Column i of [rows, dim] (a line of `rows` values at stride dim):
//   dgamma_i = sum_r dy[r, i] xhat[r, i],  dbeta_i = sum_r dy[r, i]   (either may be null)
struct NormAffineGradLine {
  const float* x;
  const float* mean;
  const float* rstd;
  const float* dy;
  float* dgamma;
  float* dbeta;
  template <class Walk>
  __device__ void operator()(const Walk& walk, int64_t column, int64_t base, int64_t stride) const {
    float g = 0.0f, b = 0.0f;
    for (int64_t r = walk.first(); r < walk.n; r += walk.step()) {
      const float d = dy[base + r * stride];
      g += d * (x[base + r * stride] - mean[r]) * rstd[r];
      b += d;
    }
    g = walk.combine(g, SumOp());
    b = walk.combine(b, SumOp());
    if (!walk.leader()) return;
    if (dgamma) dgamma[column] = g;
    if (dbeta) dbeta[column] = b;
  }
};

// ---- launch plans ------------------------------------------------------------------

template <class Launch>
void layer_norm(const Launch& launch, const float* x, const float* gamma, const float* beta, float* y, float* mean,
                float* rstd, int64_t rows, int64_t dim, float eps, LayerNormKind kind) {
  const bool subtract_mean = kind == LayerNormKind::LayerNorm;
  for_each_line(launch, LayerNormLine{x, gamma, beta, y, mean, rstd, eps, subtract_mean}, rows, dim, 1);
}

template <class Launch>
void layer_norm_backward(const Launch& launch, const float* x, const float* gamma, const float* mean,
                         const float* rstd, const float* dy, float* dx, float* dgamma, float* dbeta, int64_t rows,
                         int64_t dim, LayerNormKind kind) {
  const bool subtract_mean = kind == LayerNormKind::LayerNorm;
  for_each_line(launch, LayerNormBackwardLine{x, gamma, mean, rstd, dy, dx, subtract_mean}, rows, dim, 1);
  if (dgamma || dbeta) for_each_line(launch, NormAffineGradLine{x, mean, rstd, dy, dgamma, dbeta}, 1, rows, dim);
}

}  // namespace ta::cuda_kernels

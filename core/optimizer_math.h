// core/optimizer_math.h — the update of one parameter element by each optimizer,
// written once for the CPU backend's loops and the CUDA kernels (see the formulas
// in core/backend_ops.h).
#pragma once

#include <cmath>
#include <cstdint>

#include "core/backend.h"
#include "core/host_device.h"

namespace ta {

struct SgdHyper {
  float lr, momentum, weight_decay;
  bool nesterov;
};

// d = g + wd p;  buf = mu buf + d (buf starts at 0: d after the first step);
// p -= lr (nesterov ? d + mu buf : buf)      (mu = 0: p -= lr d, buf unused)
TA_HOST_DEVICE inline void sgd_step(int64_t i, float* p, const float* g, float* buf, const SgdHyper& h) {
  const float d = g[i] + h.weight_decay * p[i];
  if (h.momentum == 0.0f) {
    p[i] -= h.lr * d;
    return;
  }
  buf[i] = h.momentum * buf[i] + d;
  p[i] -= h.lr * (h.nesterov ? d + h.momentum * buf[i] : buf[i]);
}

struct AdamHyper {
  float lr, beta1, beta2, eps, weight_decay;
  bool decoupled;            // AdamW
  float inv_c1, inv_sqrt_c2;  // 1 / (1 - beta1^t), 1 / sqrt(1 - beta2^t)
};

// g' = g + wd p (Adam) or g (AdamW, which decays p directly first);
// m = beta1 m + (1 - beta1) g';  v = beta2 v + (1 - beta2) g'^2;
// p -= lr (m / c1) / (sqrt(v / c2) + eps)
TA_HOST_DEVICE inline void adam_step(int64_t i, float* p, const float* g, float* m, float* v, const AdamHyper& h) {
  const float gi = h.decoupled ? g[i] : g[i] + h.weight_decay * p[i];
  if (h.decoupled) p[i] -= h.lr * h.weight_decay * p[i];
  m[i] = h.beta1 * m[i] + (1.0f - h.beta1) * gi;
  v[i] = h.beta2 * v[i] + (1.0f - h.beta2) * gi * gi;
  p[i] -= h.lr * (m[i] * h.inv_c1) / (sqrtf(v[i]) * h.inv_sqrt_c2 + h.eps);
}

inline AdamHyper adam_hyper(float lr, float beta1, float beta2, float eps, float weight_decay, WeightDecay decay,
                            float c1, float c2) {
  return {lr, beta1, beta2, eps, weight_decay, decay == WeightDecay::Decoupled, 1.0f / c1, 1.0f / sqrtf(c2)};
}

}  // namespace ta

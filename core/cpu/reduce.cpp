// Kernels along one axis of [outer, n, inner]: reductions, softmax and cumulative sums.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/cpu/cpu_backend.h"
#include "core/cpu/parallel.h"
#include "core/fast_math.h"

namespace ta::cpu {

namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();
// Inner positions handled together when inner > 1: a block's running sums fit in a
// few vector registers, and a [rows, 1152] column sum (a bias gradient) still splits
// into 18 tasks, enough to keep both cores busy.
constexpr int64_t kInnerBlock = 64;

// Calls body(o, k0, k1) for every outer index o and block [k0, k1) of inner
// positions, in parallel over both.
template <class Body>
void for_outer_and_inner_blocks(int64_t outer, int64_t n, int64_t inner, Body&& body) {
  int64_t blocks = (inner + kInnerBlock - 1) / kInnerBlock;
  parallel_for(outer * blocks, n * std::min(inner, kInnerBlock), [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      int64_t o = t / blocks, k0 = (t % blocks) * kInnerBlock;
      body(o, k0, std::min(inner, k0 + kInnerBlock));
    }
  });
}

float row_max(const float* x, int64_t n) {
  float m = kNegInf;
  for (int64_t i = 0; i < n; ++i) m = (x[i] > m || x[i] != x[i]) ? x[i] : m;
  return m;
}

// log sum_i exp(x_i) = m + log sum_i exp(x_i - m), m = max_i x_i, so no exp overflows.
float row_logsumexp(const float* x, int64_t n) {
  float m = row_max(x, n);
  if (m == kNegInf || std::isinf(m)) return m;
  float s = 0.0f;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; ++i) s += fast_exp(x[i] - m);
  return m + std::log(s);
}

}  // namespace

void CpuBackend::reduce(ReduceOp op, const float* x, float* y, int64_t outer, int64_t n, int64_t inner) {
  if (inner == 1) {  // each output reduces one contiguous row
    parallel_for(outer, n, [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o) {
        const float* row = x + o * n;
        if (op == ReduceOp::Max) {
          y[o] = row_max(row, n);
        } else if (op == ReduceOp::LogSumExp) {
          y[o] = row_logsumexp(row, n);
        } else {
          float s = 0.0f;
#pragma omp simd reduction(+ : s)
          for (int64_t i = 0; i < n; ++i) s += row[i];
          y[o] = s;
        }
      }
    });
    return;
  }
  // inner > 1: walk the n rows of each [n, inner] slab, updating a block of outputs.
  for_outer_and_inner_blocks(outer, n, inner, [&](int64_t o, int64_t k0, int64_t k1) {
    const float* slab = x + o * n * inner;
    float* out = y + o * inner;
    if (op == ReduceOp::Sum) {  // in a local block, which (unlike out) cannot alias x: the loop vectorizes
      float acc[kInnerBlock] = {};
      for (int64_t i = 0; i < n; ++i)
        for (int64_t k = k0; k < k1; ++k) acc[k - k0] += slab[i * inner + k];
      std::copy(acc, acc + (k1 - k0), out + k0);
      return;
    }
    for (int64_t k = k0; k < k1; ++k) out[k] = kNegInf;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t k = k0; k < k1; ++k) {
        float v = slab[i * inner + k];
        out[k] = (v > out[k] || v != v) ? v : out[k];
      }
    if (op == ReduceOp::LogSumExp) {
      float sums[kInnerBlock] = {};
      for (int64_t i = 0; i < n; ++i)
        for (int64_t k = k0; k < k1; ++k)
          if (!std::isinf(out[k])) sums[k - k0] += fast_exp(slab[i * inner + k] - out[k]);
      for (int64_t k = k0; k < k1; ++k)
        if (!std::isinf(out[k])) out[k] += std::log(sums[k - k0]);
    }
  });
}

// softmax(x)_i = exp(x_i - m) / sum_j exp(x_j - m), m = max_j x_j (same value, no overflow).
// log_softmax(x)_i = x_i - logsumexp(x). A row that is all -inf (every position
// masked) gives softmax 0 everywhere rather than 0/0.
void CpuBackend::softmax(const float* x, float* y, int64_t outer, int64_t n, int64_t inner, SoftmaxForm form) {
  const bool log = form == SoftmaxForm::LogSoftmax;
  if (inner == 1) {
    parallel_for(outer, 4 * n, [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o) {
        const float* xr = x + o * n;
        float* yr = y + o * n;
        if (log) {
          float lse = row_logsumexp(xr, n);
          for (int64_t i = 0; i < n; ++i) yr[i] = xr[i] - lse;
          continue;
        }
        float m = row_max(xr, n);
        if (m == kNegInf) {
          for (int64_t i = 0; i < n; ++i) yr[i] = 0.0f;
          continue;
        }
        float s = 0.0f;
        for (int64_t i = 0; i < n; ++i) s += (yr[i] = fast_exp(xr[i] - m));
        float inv = 1.0f / s;
        for (int64_t i = 0; i < n; ++i) yr[i] *= inv;
      }
    });
    return;
  }
  for_outer_and_inner_blocks(outer, n, inner, [&](int64_t o, int64_t k0, int64_t k1) {
    const float* xs = x + o * n * inner;
    float* ys = y + o * n * inner;
    for (int64_t k = k0; k < k1; ++k) {
      float m = kNegInf;
      for (int64_t i = 0; i < n; ++i) m = std::fmax(m, xs[i * inner + k]);
      float s = 0.0f;
      for (int64_t i = 0; i < n; ++i) s += fast_exp(xs[i * inner + k] - m);
      if (log) {
        float lse = m + std::log(s);
        for (int64_t i = 0; i < n; ++i) ys[i * inner + k] = xs[i * inner + k] - lse;
      } else {
        float inv = m == kNegInf ? 0.0f : 1.0f / s;
        for (int64_t i = 0; i < n; ++i) ys[i * inner + k] = m == kNegInf ? 0.0f : fast_exp(xs[i * inner + k] - m) * inv;
      }
    }
  });
}

void CpuBackend::softmax_backward(const float* y, const float* dy, float* dx, int64_t outer, int64_t n, int64_t inner,
                                  SoftmaxForm form) {
  const bool log = form == SoftmaxForm::LogSoftmax;
  for_outer_and_inner_blocks(outer, n, inner, [&](int64_t o, int64_t k0, int64_t k1) {
    const int64_t base = o * n * inner;
    for (int64_t k = k0; k < k1; ++k) {
      const float* yr = y + base + k;
      const float* dyr = dy + base + k;
      float* dxr = dx + base + k;
      float s = 0.0f;  // sum_i dy_i y_i (softmax) or sum_i dy_i (log_softmax)
      for (int64_t i = 0; i < n; ++i) s += log ? dyr[i * inner] : dyr[i * inner] * yr[i * inner];
      for (int64_t i = 0; i < n; ++i)
        dxr[i * inner] = log ? dyr[i * inner] - fast_exp(yr[i * inner]) * s : yr[i * inner] * (dyr[i * inner] - s);
    }
  });
}

void CpuBackend::cumsum(const float* x, float* y, int64_t outer, int64_t n, int64_t inner, ScanDirection direction) {
  const bool reverse = direction == ScanDirection::Reverse;
  for_outer_and_inner_blocks(outer, n, inner, [&](int64_t o, int64_t k0, int64_t k1) {
    const int64_t base = o * n * inner;
    float acc[kInnerBlock] = {};
    for (int64_t step = 0; step < n; ++step) {
      int64_t i = reverse ? n - 1 - step : step;
      for (int64_t k = k0; k < k1; ++k) {
        acc[k - k0] += x[base + i * inner + k];
        y[base + i * inner + k] = acc[k - k0];
      }
    }
  });
}

}  // namespace ta::cpu

// Indexing kernels along one axis of [outer, n, inner]. Index values arrive as
// floats already checked (whole numbers in range) by core/kernels/index.cpp.
#include <cstring>

#include "core/cpu/cpu_backend.h"
#include "core/cpu/parallel.h"

namespace ta::cpu {

namespace {
constexpr int64_t kInnerBlock = 256;
inline int64_t as_index(float v) { return static_cast<int64_t>(v); }

// Several j may name the same destination row, so threads split the inner
// positions (never the j loop) and each adds its own columns: add(o, j, k0, k1) adds
// source row (o, j)'s columns k0 .. k1 - 1 where they go.
template <class AddRow>
void scatter_rows(int64_t outer, int64_t n_index, int64_t inner, AddRow add) {
  int64_t blocks = (inner + kInnerBlock - 1) / kInnerBlock;
  parallel_for(outer * blocks, n_index * std::min(inner, kInnerBlock), [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      int64_t o = t / blocks, k0 = (t % blocks) * kInnerBlock, k1 = std::min(inner, k0 + kInnerBlock);
      for (int64_t j = 0; j < n_index; ++j) add(o, j, k0, k1);
    }
  });
}

}  // namespace

void CpuBackend::index_select(const float* x, const float* index, float* y, int64_t outer, int64_t n_src,
                              int64_t n_index, int64_t inner) {
  parallel_for(outer * n_index, inner, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      int64_t o = t / n_index, j = t % n_index;
      std::memcpy(y + t * inner, x + (o * n_src + as_index(index[j])) * inner, inner * sizeof(float));
    }
  });
}

void CpuBackend::index_add(const float* dy, const float* index, float* dx, int64_t outer, int64_t n_dst,
                           int64_t n_index, int64_t inner) {
  scatter_rows(outer, n_index, inner, [&](int64_t o, int64_t j, int64_t k0, int64_t k1) {
    const float* src = dy + (o * n_index + j) * inner;
    float* dst = dx + (o * n_dst + as_index(index[j])) * inner;
    for (int64_t k = k0; k < k1; ++k) dst[k] += src[k];
  });
}

void CpuBackend::gather(const float* x, const float* index, float* y, int64_t outer, int64_t n_src, int64_t n_index,
                        int64_t inner) {
  parallel_for(outer * n_index, inner, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      int64_t o = t / n_index;
      const float* idx = index + t * inner;
      for (int64_t k = 0; k < inner; ++k) y[t * inner + k] = x[(o * n_src + as_index(idx[k])) * inner + k];
    }
  });
}

void CpuBackend::scatter_add(const float* dy, const float* index, float* dx, int64_t outer, int64_t n_dst,
                             int64_t n_index, int64_t inner) {
  scatter_rows(outer, n_index, inner, [&](int64_t o, int64_t j, int64_t k0, int64_t k1) {
    const int64_t row = (o * n_index + j) * inner;
    for (int64_t k = k0; k < k1; ++k) dx[(o * n_dst + as_index(index[row + k])) * inner + k] += dy[row + k];
  });
}

}  // namespace ta::cpu

// Data movement: permuting dimensions, and copying (slices, concat) or adding
// (gradient sums) blocks of rows.
#include <algorithm>
#include <cstring>

#include "core/cpu/cpu_backend.h"
#include "core/cpu/parallel.h"

namespace ta::cpu {

// y's dimension d is x's dimension perm[d]. We walk y in order, one row of its last
// dimension at a time, reading x through its strides permuted into y's order.
void CpuBackend::permute(const float* x, float* y, const Shape& x_shape, const int* perm) {
  const int nd = x_shape.ndim();
  if (nd == 0 || x_shape.numel() == 0) {
    if (nd == 0) y[0] = x[0];
    return;
  }
  Dims x_strides = contiguous_strides(x_shape);
  Dims shape{}, src_stride{};
  for (int d = 0; d < nd; ++d) {
    shape[d] = x_shape[perm[d]];
    src_stride[d] = x_strides[perm[d]];
  }
  const int64_t len = shape[nd - 1], step = src_stride[nd - 1];
  const int64_t rows = x_shape.numel() / len;
  parallel_for(rows, len, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      int64_t off = 0, rest = r;
      for (int d = nd - 2; d >= 0; --d) {
        off += (rest % shape[d]) * src_stride[d];
        rest /= shape[d];
      }
      float* out = y + r * len;
      for (int64_t i = 0; i < len; ++i) out[i] = x[off + i * step];
    }
  });
}

void CpuBackend::copy_rows(const float* src, int64_t src_stride, float* dst, int64_t dst_stride, int64_t rows,
                           int64_t row_len) {
  parallel_for(rows, row_len, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r)
      std::memcpy(dst + r * dst_stride, src + r * src_stride, static_cast<size_t>(row_len) * sizeof(float));
  });
}

void CpuBackend::accumulate_rows(const float* src, int64_t src_stride, float* dst, int64_t dst_stride,
                                 int64_t rows, int64_t row_len) {
  // Split by elements, not rows: a whole tensor is one row. A thread's range
  // [b, e) may start and end inside rows; each pass of the loop takes the part of
  // one row that lies in it.
  parallel_for(rows * row_len, 1, [&](int64_t b, int64_t e) {
    while (b < e) {
      const int64_t r = b / row_len, i0 = b % row_len, i1 = std::min(row_len, i0 + (e - b));
      const float* s = src + r * src_stride;
      float* d = dst + r * dst_stride;
      for (int64_t i = i0; i < i1; ++i) d[i] += s[i];
      b += i1 - i0;
    }
  });
}

}  // namespace ta::cpu

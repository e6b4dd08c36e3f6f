// core/cpu/attention/online_softmax.h — one step of the online (streaming) softmax that the
// fused attention kernels use to visit keys tile by tile without the n x n matrix.
//
// A query row keeps a running maximum m, a running sum l = sum_j exp(s_j - m) and an
// unnormalized output acc = sum_j exp(s_j - m) v_j over the keys seen so far. A new
// tile of scores s_c (masked entries -inf) moves the maximum to m' = max(m, max_c s_c);
// then p_c = exp(s_c - m'), l' = l exp(m - m') + sum_c p_c, and acc is rescaled by
// exp(m - m') before the caller adds P V. At the end out = acc / l and the row's
// log-sum-exp is m + log l.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>

#include "core/fast_math.h"

namespace ta::cpu {

// Turns `row` (cols scores) into p in place and updates m, l and the row's
// accumulator acc[0 .. d). A row with nothing visible yet (m' = -inf) becomes zeros
// and changes nothing.
inline void online_softmax_step(float* row, int64_t cols, float& m, float& l, float* acc, int64_t d) {
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  // The running maximum in vector registers (a maximum is the same in any order; the
  // comparison, not std::max, is what GCC vectorizes; a NaN score is passed over here as
  // before, and makes its row NaN through exp below).
  float mx = kNegInf;
#pragma omp simd reduction(max : mx)
  for (int64_t c = 0; c < cols; ++c) mx = row[c] > mx ? row[c] : mx;
  const float m_new = std::max(m, mx);
  if (m_new == kNegInf) {
    std::fill(row, row + cols, 0.0f);
    return;
  }
  float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
  for (int64_t c = 0; c < cols; ++c) {
    row[c] = fast_exp(row[c] - m_new);
    sum += row[c];
  }
  const float rescale = fast_exp(m - m_new);
  l = l * rescale + sum;
  m = m_new;
  if (rescale != 1.0f)
    for (int64_t c = 0; c < d; ++c) acc[c] *= rescale;
}

}  // namespace ta::cpu

// core/cuda/attention/kernels/softmax_tiles.cuh — one query tile against one key tile of exact
// softmax attention, forward (online softmax) and backward (from the saved
// log-sum-exp), shared by the dense kernels (dense.cuh) and the block-sparse ones
// (block_sparse.cuh). The two differ only in which rows and keys a tile
// holds and which (query, key) pairs are visible; that comes in as a `visible(r, c)`
// callback on tile coordinates.
//
// A thread block holds up to T query rows and T keys of one head at a time in shared
// memory (head dimension d), carved out of the kernel's dynamic shared memory.
#pragma once

#include "core/cuda/attention/kernels/tile_math.cuh"
#include "core/cuda/device_compat.h"
#include "core/error.h"

namespace ta::cuda_kernels {

// The inputs of one call, dense or block-sparse (causal is for dense only): q [bh, n_q, d],
// k and v [bh, n_k, d], key_pad [bh / heads, n_k] (nonzero = padded) or null.
struct AttentionInputs {
  const float *q, *k, *v, *key_pad;
  int64_t bh, heads, n_q, n_k, d;
  float scale;
  bool causal;
};

// The key_pad row of head b, or null.
__device__ inline const float* pad_row(const AttentionInputs& in, int64_t b) {
  return in.key_pad ? in.key_pad + (b / in.heads) * in.n_k : nullptr;
}

// Forward: queries q, keys k and values v of the current tile, scores s, and per
// query row the running state of the online softmax: acc = sum exp(s - m) v,
// m = the running max of the scores, l = sum exp(s - m), and `rescale`, the factor
// exp(m_old - m_new) of the latest tile.
struct SoftmaxForwardTiles {
  float *q, *k, *v, *s, *acc, *m, *l, *rescale;
  static int64_t floats(int64_t T, int64_t d) { return 4 * T * d + T * T + 3 * T; }
  __device__ SoftmaxForwardTiles(float* base, int64_t T, int64_t d)
      : q(base), k(q + T * d), v(k + T * d), s(v + T * d), acc(s + T * T), m(acc + T * d), l(m + T),
        rescale(l + T) {}
};

// The tile height of a forward kernel with head dimension d (0: d too large).
inline int softmax_forward_tile(int64_t d) {
  return fit_tile_rows([d](int64_t T) { return SoftmaxForwardTiles::floats(T, d); });
}

// The tile height for head dimension d, or a clear error when d is too large for the
// shared memory of even one-row tiles.
inline int attention_tile(int (*fit)(int64_t), int64_t d, const char* op) {
  const int T = fit(d);
  TA_CHECK(T > 0, op, ": head dimension ", d, " is too large for the CUDA kernel's shared memory (",
           kSharedMemoryBytes, " bytes per block)");
  return T;
}

// acc = 0, m = -inf, l = 0 for `rows` query rows: nothing seen yet.
__device__ inline void start_rows(const SoftmaxForwardTiles& t, int64_t rows, int64_t d) {
  block_fill(t.acc, rows * d, 0.0f);
  block_fill(t.m, rows, -INFINITY);
  block_fill(t.l, rows, 0.0f);
}

// Folds `cols` keys (in t.k, t.v) into the running state of `rows` queries (t.q):
//   s = scale q k^T, -inf where !visible(r, c);   m' = max(m, max_c s);
//   p = exp(s - m');   l = l exp(m - m') + sum_c p;   acc = acc exp(m - m') + p v,
// the product over the visible pairs only (block_matmul_where).
// A row that has seen no visible key yet (m' = -inf) stays at its start state.
template <class Visible>
__device__ void fold_keys(const SoftmaxForwardTiles& t, int64_t rows, int64_t cols, int64_t d, float scale,
                          Visible visible) {
  block_matmul(rows, cols, d, RowMajor{t.q, d}, Transposed{t.k, d},
               [&](int64_t r, int64_t c, float x) { t.s[r * cols + c] = visible(r, c) ? scale * x : -INFINITY; });
  __syncthreads();
  for (int64_t r = threadIdx.x; r < rows; r += blockDim.x) {
    float* row = t.s + r * cols;
    float mx = -INFINITY;
    for (int64_t c = 0; c < cols; ++c) mx = fmaxf(mx, row[c]);
    const float m_new = fmaxf(t.m[r], mx);
    if (m_new == -INFINITY) {
      for (int64_t c = 0; c < cols; ++c) row[c] = 0.0f;
      t.rescale[r] = 1.0f;
      continue;
    }
    float sum = 0.0f;
    for (int64_t c = 0; c < cols; ++c) {
      row[c] = expf(row[c] - m_new);
      sum += row[c];
    }
    t.rescale[r] = expf(t.m[r] - m_new);
    t.l[r] = t.l[r] * t.rescale[r] + sum;
    t.m[r] = m_new;
  }
  __syncthreads();
  block_matmul_where(rows, d, cols, RowMajor{t.s, cols}, RowMajor{t.v, d}, visible, [&](int64_t r, int64_t c, float x) {
    float& a = t.acc[r * d + c];
    a = a * t.rescale[r] + x;
  });
  __syncthreads();
}

// The end of a row: O = acc / l and lse = m + log l; a row that saw no key gets
// O = 0 and lse = +inf. One thread per row.
__device__ inline void finish_row(const float* acc, float m, float l, int64_t d, float* out, float* lse) {
  const float inv = l > 0.0f ? 1.0f / l : 0.0f;
  for (int64_t c = 0; c < d; ++c) out[c] = acc[c] * inv;
  *lse = l > 0.0f ? m + logf(l) : INFINITY;
}

// Backward: queries q, their upstream gradient d_o, their dq accumulator, keys k and
// values v of the current tile, probabilities p and dS, and per query row its saved
// lse, delta = dO . O (= sum_j P_ij dP_ij over all the row's keys) and `live`: 0 for
// a row whose dO is zero, which is left out of every product (its share of every
// gradient is a multiple of dO; core/cpu/attention/masked_tiles.h).
struct SoftmaxBackwardTiles {
  float *q, *d_o, *dq, *k, *v, *p, *ds, *lse, *delta, *live;
  static int64_t floats(int64_t T, int64_t d) { return 5 * T * d + 2 * T * T + 3 * T; }
  __device__ SoftmaxBackwardTiles(float* base, int64_t T, int64_t d)
      : q(base), d_o(q + T * d), dq(d_o + T * d), k(dq + T * d), v(k + T * d), p(v + T * d), ds(p + T * T),
        lse(ds + T * T), delta(lse + T), live(delta + T) {}
};

// The tile height of a backward kernel with head dimension d (0: d too large).
inline int softmax_backward_tile(int64_t d) {
  return fit_tile_rows([d](int64_t T) { return SoftmaxBackwardTiles::floats(T, d); });
}

// delta_r = dO_r . O_r and live_r for the tile's rows; o_row(r) points at row r of O.
template <class ORow>
__device__ void compute_delta(const SoftmaxBackwardTiles& t, int64_t rows, int64_t d, ORow o_row) {
  for (int64_t r = threadIdx.x; r < rows; r += blockDim.x) {
    const float* o = o_row(r);
    bool live = false;
    for (int64_t c = 0; c < d; ++c) live = live || t.d_o[r * d + c] != 0.0f;
    float sum = 0.0f;
    for (int64_t c = 0; c < d && live; ++c) sum += t.d_o[r * d + c] * o[c];
    t.delta[r] = sum;
    t.live[r] = live ? 1.0f : 0.0f;
  }
}

// One query tile (rows) against one key tile (cols) of the backward, with
// P = exp(scale q k^T - lse) (0 where !visible):
//   dV += P^T dO,   dP = dO V^T,   dS = P (dP - delta),   dQ += scale dS K,   dK += scale dS^T Q,
// over the visible pairs of the live rows only (P and dS set to 0 elsewhere, the
// products skipping those terms). dQ accumulates in t.dq (the block owns its query
// rows); dK and dV rows are shared with other blocks and go to global memory
// atomically: key c of the tile is row key_row(c) of dk and dv.
template <class Visible, class KeyRow>
__device__ void backward_keys(const SoftmaxBackwardTiles& t, int64_t rows, int64_t cols, int64_t d, float scale,
                              Visible visible, float* dk, float* dv, KeyRow key_row) {
  auto used = [&](int64_t r, int64_t c) { return t.live[r] != 0.0f && visible(r, c); };
  block_matmul(rows, cols, d, RowMajor{t.q, d}, Transposed{t.k, d}, [&](int64_t r, int64_t c, float x) {
    t.p[r * cols + c] = used(r, c) ? expf(scale * x - t.lse[r]) : 0.0f;
  });
  block_matmul(rows, cols, d, RowMajor{t.d_o, d}, Transposed{t.v, d},
               [&](int64_t r, int64_t c, float x) { t.ds[r * cols + c] = x; });
  __syncthreads();
  block_matmul(cols, d, rows, Transposed{t.p, cols}, RowMajor{t.d_o, d},
               [&](int64_t c, int64_t e, float x) { atomicAdd(dv + key_row(c) * d + e, x); });
  for (int64_t idx = threadIdx.x; idx < rows * cols; idx += blockDim.x) {
    const int64_t r = idx / cols;
    t.ds[idx] = used(r, idx % cols) ? t.p[idx] * (t.ds[idx] - t.delta[r]) : 0.0f;
  }
  __syncthreads();
  block_matmul_where(
      cols, d, rows, Transposed{t.ds, cols}, RowMajor{t.q, d}, [&](int64_t, int64_t r) { return t.live[r] != 0.0f; },
      [&](int64_t c, int64_t e, float x) { atomicAdd(dk + key_row(c) * d + e, scale * x); });
  block_matmul_where(rows, d, cols, RowMajor{t.ds, cols}, RowMajor{t.k, d}, used,
                     [&](int64_t r, int64_t e, float x) { t.dq[r * d + e] += scale * x; });
  __syncthreads();
}

}  // namespace ta::cuda_kernels

// core/cuda/attention/kernels/dense.cuh — fused exact softmax attention on the GPU,
// FlashAttention-style (Dao et al. 2022): the semantics of Backend::attention_forward
// and attention_backward (core/attention/backend_ops.h; the CPU twin is core/cpu/attention/dense.cpp).
//
// Forward: one thread block per (head, tile of T queries). It keeps its queries and an
// online-softmax state in shared memory and walks the key tiles up to the causal
// limit: O = softmax(scale q k^T + mask) v without ever holding more than T x T scores.
// Backward: the same blocks walk the same key tiles, recompute P from the saved lse,
// keep dQ of their queries in shared memory and add their share of dK and dV to global
// memory atomically (so the summation order of dK and dV varies from run to run, within
// float rounding). T comes from the shared memory the tiles need at head dimension d.
#pragma once

#include "core/cuda/attention/kernels/softmax_tiles.cuh"
#include "core/cuda/attention/kernels/tile_math.cuh"
#include "core/cuda/device_compat.h"
#include "core/cuda/kernels/grid.cuh"

namespace ta::cuda_kernels {

// Where a block works: head b, queries i0 .. i0 + rows - 1, and the keys they may
// see, [0, key_end) (causal: query i sees keys j <= i + n_k - n_q).
struct QueryTile {
  int64_t b, i0, rows, key_end;
  __device__ QueryTile(const AttentionInputs& in, int64_t T) {
    const int64_t tiles = (in.n_q + T - 1) / T;
    b = blockIdx.x / tiles;
    i0 = (blockIdx.x % tiles) * T;
    rows = min_of(T, in.n_q - i0);
    const int64_t end = i0 + rows + (in.n_k - in.n_q);
    key_end = !in.causal ? in.n_k : (end < 0 ? 0 : min_of(end, in.n_k));
  }
};

// Whether query row r of a tile may see key column c of the key tile starting at j0.
struct DenseVisible {
  int64_t i0, j0, shift;
  bool causal;
  const float* pad;  // this batch element's key_pad row, or null
  __device__ bool operator()(int64_t r, int64_t c) const {
    const int64_t j = j0 + c;
    return !(causal && j > i0 + r + shift) && !(pad && pad[j] != 0.0f);
  }
};

__global__ inline void attention_forward_kernel(AttentionInputs in, int tile, float* o, float* lse) {
  TA_DYNAMIC_SHARED(float, shared);
  const int64_t T = tile, d = in.d;
  const QueryTile qt(in, T);
  const SoftmaxForwardTiles t(shared, T, d);
  const float *K = in.k + qt.b * in.n_k * d, *V = in.v + qt.b * in.n_k * d;
  load_rows(t.q, in.q + qt.b * in.n_q * d, qt.rows, d, [&](int64_t r) { return qt.i0 + r; });
  start_rows(t, qt.rows, d);
  for (int64_t j0 = 0; j0 < qt.key_end; j0 += T) {
    const int64_t cols = min_of(T, qt.key_end - j0);
    __syncthreads();  // the previous tile's keys are no longer read
    load_rows(t.k, K, cols, d, [&](int64_t c) { return j0 + c; });
    load_rows(t.v, V, cols, d, [&](int64_t c) { return j0 + c; });
    __syncthreads();
    fold_keys(t, qt.rows, cols, d, in.scale, DenseVisible{qt.i0, j0, in.n_k - in.n_q, in.causal, pad_row(in, qt.b)});
  }
  __syncthreads();
  for (int64_t r = threadIdx.x; r < qt.rows; r += blockDim.x) {
    const int64_t i = qt.b * in.n_q + qt.i0 + r;
    finish_row(t.acc + r * d, t.m[r], t.l[r], d, o + i * d, lse + i);
  }
}

__global__ inline void attention_backward_kernel(AttentionInputs in, int tile, const float* o, const float* lse,
                                                 const float* d_o, float* dq, float* dk, float* dv) {
  TA_DYNAMIC_SHARED(float, shared);
  const int64_t T = tile, d = in.d;
  const QueryTile qt(in, T);
  const SoftmaxBackwardTiles t(shared, T, d);
  const int64_t q_base = qt.b * in.n_q, k_base = qt.b * in.n_k;
  auto query_row = [&](int64_t r) { return qt.i0 + r; };
  load_rows(t.q, in.q + q_base * d, qt.rows, d, query_row);
  load_rows(t.d_o, d_o + q_base * d, qt.rows, d, query_row);
  load_rows(t.lse, lse + q_base, qt.rows, 1, query_row);
  block_fill(t.dq, qt.rows * d, 0.0f);
  __syncthreads();
  compute_delta(t, qt.rows, d, [&](int64_t r) { return o + (q_base + qt.i0 + r) * d; });
  for (int64_t j0 = 0; j0 < qt.key_end; j0 += T) {
    const int64_t cols = min_of(T, qt.key_end - j0);
    auto key_row = [&](int64_t c) { return j0 + c; };
    __syncthreads();  // the previous tile's keys are no longer read
    load_rows(t.k, in.k + k_base * d, cols, d, key_row);
    load_rows(t.v, in.v + k_base * d, cols, d, key_row);
    __syncthreads();
    backward_keys(t, qt.rows, cols, d, in.scale,
                  DenseVisible{qt.i0, j0, in.n_k - in.n_q, in.causal, pad_row(in, qt.b)}, dk + k_base * d,
                  dv + k_base * d, key_row);
  }
  __syncthreads();
  for (int64_t idx = threadIdx.x; idx < qt.rows * d; idx += blockDim.x) dq[(q_base + qt.i0) * d + idx] = t.dq[idx];
}

inline dim3 query_tile_grid(const AttentionInputs& in, int64_t T) {
  return dim3(static_cast<unsigned>(in.bh * ((in.n_q + T - 1) / T)));
}

template <class Launch>
void attention_forward(const Launch& launch, const AttentionInputs& in, float* o, float* lse) {
  if (in.bh == 0 || in.n_q == 0) return;
  const int T = attention_tile(softmax_forward_tile, in.d, "attention_forward");
  launch(attention_forward_kernel, query_tile_grid(in, T), dim3(kFusedThreads),
         SoftmaxForwardTiles::floats(T, in.d) * sizeof(float), in, T, o, lse);
}

// dk and dv are zeroed first (every query tile adds to them); dq is written whole.
template <class Launch>
void attention_backward(const Launch& launch, const AttentionInputs& in, const float* o, const float* lse,
                        const float* d_o, float* dq, float* dk, float* dv) {
  const int64_t key_floats = in.bh * in.n_k * in.d;
  launch(zero_kernel, blocks_for(key_floats), dim3(kThreads), 0, dk, key_floats);
  launch(zero_kernel, blocks_for(key_floats), dim3(kThreads), 0, dv, key_floats);
  if (in.bh == 0 || in.n_q == 0) return;
  const int T = attention_tile(softmax_backward_tile, in.d, "attention_backward");
  launch(attention_backward_kernel, query_tile_grid(in, T), dim3(kFusedThreads),
         SoftmaxBackwardTiles::floats(T, in.d) * sizeof(float), in, T, o, lse, d_o, dq, dk, dv);
}

}  // namespace ta::cuda_kernels

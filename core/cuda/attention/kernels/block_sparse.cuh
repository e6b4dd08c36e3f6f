// core/cuda/attention/kernels/block_sparse.cuh — block-sparse attention on the GPU
// (Sparse Transformer, Child et al. 2019): the semantics of
// Backend::block_sparse_attention_forward and _backward (core/attention/backend_ops.h; the CPU twin
// is core/cpu/attention/block_sparse.cpp).
//
// The algorithm of the dense kernels (dense.cuh, through softmax_tiles.cuh), over
// the active blocks of the layout only. A part of a pattern lists its query rows and
// keys in an order of its own, so tiles are gathered through those lists, and a
// partially covered block masks the pairs it does not allow.
//
// All the parts of a pattern share one softmax per query row, so the parts run as
// separate launches, one after another (a part puts every query row in at most one of
// its blocks, so the blocks of one launch never share a row). Between launches each
// row's online-softmax state lives in global memory: o holds the running sum
// acc = sum exp(s - m) v, lse the running max m, and a scratch buffer the running sum
// l = sum exp(s - m). A last launch turns them into O = acc / l and lse = m + log l.
// A thread block handles one group of up to T rows of one query block of a part, for
// one head; a key block wider than T is folded in T columns at a time.
//
// The backward runs the parts one after another too: a block adds its part's share of
// dQ to its rows, and adds to dK and dV atomically (keys are shared between blocks).
#pragma once

#include "core/cuda/attention/kernels/block_sparse_layout.cuh"
#include "core/cuda/attention/kernels/softmax_tiles.cuh"
#include "core/cuda/attention/kernels/tile_math.cuh"
#include "core/cuda/device_compat.h"
#include "core/cuda/kernels/grid.cuh"
#include "core/scratch.h"

#include <algorithm>
#include <utility>

namespace ta::cuda_kernels {

// What every launch of one call shares: the inputs, the layout on the device, and the
// tile height T (rows of a group and columns of a key tile; at most the block size b).
struct SparseCall {
  AttentionInputs in;
  const int32_t* layout;  // the packed words (block_sparse_layout.cuh), in device memory
  int64_t block, patterns, max_parts, max_query_blocks;
  int64_t tile, row_groups;  // row_groups = ceil(b / T) groups of rows per query block
};

// The rows of one thread block: group g of query block I of part `slot` of head h's
// pattern, rows = 0 when there is nothing to do (no such part, block or group, or no
// active key block).
struct SparseRows {
  int64_t h, I, g;
  LayoutPart part;
  int64_t rows;
  const int32_t* list;  // the group's query rows: list[0 .. rows)

  __device__ SparseRows(const SparseCall& call, int64_t slot)
      : h(blockIdx.x / (call.max_query_blocks * call.row_groups)),
        I(blockIdx.x / call.row_groups % call.max_query_blocks),
        g(blockIdx.x % call.row_groups),
        part(call.layout, call.max_parts, h % call.in.heads % call.patterns, slot, call.block) {
    const int64_t first = I * call.block + g * call.tile;  // where the group starts in the part's query list
    const bool active = part.n_queries > first && part.row_begin[I] < part.row_begin[I + 1];
    rows = active ? min_of(min_of(call.tile, call.block - g * call.tile), part.n_queries - first) : 0;
    list = part.queries + (active ? first : 0);
  }
};

// Whether row r of the group sees column c of the key tile: the block's mask allows
// the pair and the key is not padded.
struct SparseVisible {
  const LayoutPart* part;
  int64_t a, r0, c0;  // active block, first row and first column of the tile in the block
  const int32_t* keys;
  const float* pad;
  __device__ bool operator()(int64_t r, int64_t c) const {
    return part->allows(a, r0 + r, c0 + c) && !(pad && pad[keys[c]] != 0.0f);
  }
};

// One per-query array of the call, x [bh * n_q, width], and the shared tile
// [rows, width] that takes the group's rows of it.
struct QueryRows {
  float* tile;
  const float* x;
  int64_t width;
};

// Copies the group's rows of each array into its tile.
template <int N>
__device__ void load_query_rows(const SparseCall& call, const SparseRows& sr, const QueryRows (&arrays)[N]) {
  auto query_row = [&](int64_t r) { return static_cast<int64_t>(sr.list[r]); };
  for (const QueryRows& a : arrays)
    load_rows(a.tile, a.x + sr.h * call.in.n_q * a.width, sr.rows, a.width, query_row);
}

// For each tile of at most T columns of the active blocks of the rows' query block
// (columns c0 .. c0 + cols - 1 of active block a, whose keys are keys[0 .. cols)):
// loads the tile's keys and values into t.k and t.v, then calls f(cols, visible,
// key_row), visible(r, c) the group's mask and key_row(c) the tile's key rows.
template <class Tiles, class F>
__device__ void for_each_key_tile(const SparseCall& call, const SparseRows& sr, const Tiles& t, F f) {
  const LayoutPart& part = sr.part;
  const AttentionInputs& in = call.in;
  const int64_t d = in.d, k_base = sr.h * in.n_k;
  for (int64_t a = part.row_begin[sr.I]; a < part.row_begin[sr.I + 1]; ++a) {
    const int64_t k0 = static_cast<int64_t>(part.col[a]) * call.block;
    const int64_t width = min_of(call.block, part.n_keys - k0);
    for (int64_t c0 = 0; c0 < width; c0 += call.tile) {
      const int64_t cols = min_of(call.tile, width - c0);
      const int32_t* keys = part.keys + k0 + c0;
      auto key_row = [&](int64_t c) { return static_cast<int64_t>(keys[c]); };
      __syncthreads();  // the previous tile's keys are no longer read
      load_rows(t.k, in.k + k_base * d, cols, d, key_row);
      load_rows(t.v, in.v + k_base * d, cols, d, key_row);
      __syncthreads();
      f(cols, SparseVisible{&part, a, sr.g * call.tile, c0, keys, pad_row(in, sr.h)}, key_row);
    }
  }
}

// o = 0, lse (the running max) = -inf, l = 0 for every row: nothing seen yet.
__global__ inline void sparse_start_kernel(float* o, float* m, float* l, int64_t rows, int64_t d) {
  for (int64_t i = grid_first(); i < rows; i += grid_step()) {
    for (int64_t c = 0; c < d; ++c) o[i * d + c] = 0.0f;
    m[i] = -INFINITY;
    l[i] = 0.0f;
  }
}

// Folds part `slot` into the rows' running state (see the header comment).
__global__ inline void sparse_forward_part_kernel(SparseCall call, int64_t slot, float* o, float* lse, float* l_sum) {
  TA_DYNAMIC_SHARED(float, shared);
  const SparseRows sr(call, slot);
  if (sr.rows == 0) return;
  const int64_t d = call.in.d, q_base = sr.h * call.in.n_q;
  const SoftmaxForwardTiles t(shared, call.tile, d);
  load_query_rows(call, sr, {{t.q, call.in.q, d}, {t.acc, o, d}, {t.m, lse, 1}, {t.l, l_sum, 1}});
  for_each_key_tile(call, sr, t, [&](int64_t cols, const SparseVisible& visible, auto) {
    fold_keys(t, sr.rows, cols, d, call.in.scale, visible);
  });
  __syncthreads();
  for (int64_t r = threadIdx.x; r < sr.rows; r += blockDim.x) {
    const int64_t i = q_base + sr.list[r];
    for (int64_t c = 0; c < d; ++c) o[i * d + c] = t.acc[r * d + c];
    lse[i] = t.m[r];
    l_sum[i] = t.l[r];
  }
}

// O = acc / l and lse = m + log l, in place, one thread per row.
__global__ inline void sparse_finish_kernel(float* o, float* lse, const float* l_sum, int64_t rows, int64_t d) {
  for (int64_t i = grid_first(); i < rows; i += grid_step())
    finish_row(o + i * d, lse[i], l_sum[i], d, o + i * d, lse + i);
}

// Adds part `slot`'s share of dQ, dK and dV.
__global__ inline void sparse_backward_part_kernel(SparseCall call, int64_t slot, const float* o, const float* lse,
                                                   const float* d_o, float* dq, float* dk, float* dv) {
  TA_DYNAMIC_SHARED(float, shared);
  const SparseRows sr(call, slot);
  if (sr.rows == 0) return;
  const int64_t d = call.in.d, q_base = sr.h * call.in.n_q, k_base = sr.h * call.in.n_k;
  const SoftmaxBackwardTiles t(shared, call.tile, d);
  load_query_rows(call, sr, {{t.q, call.in.q, d}, {t.d_o, d_o, d}, {t.lse, lse, 1}});
  block_fill(t.dq, sr.rows * d, 0.0f);
  __syncthreads();
  compute_delta(t, sr.rows, d, [&](int64_t r) { return o + (q_base + sr.list[r]) * d; });
  for_each_key_tile(call, sr, t, [&](int64_t cols, const SparseVisible& visible, auto key_row) {
    backward_keys(t, sr.rows, cols, d, call.in.scale, visible, dk + k_base * d, dv + k_base * d, key_row);
  });
  __syncthreads();
  for (int64_t idx = threadIdx.x; idx < sr.rows * d; idx += blockDim.x)
    dq[(q_base + sr.list[idx / d]) * d + idx % d] += t.dq[idx];
}

// The layout packed and copied to device memory, for the duration of one call.
class DeviceLayout {
 public:
  DeviceLayout(Backend& memory, const BlockSparseLayout& layout)
      : packed_(pack_layout(layout)), words_(memory, static_cast<int64_t>(packed_.words.size())) {
    static_assert(sizeof(int32_t) == sizeof(float), "words travel through float buffers");
    memory.copy_from_host(reinterpret_cast<const float*>(packed_.words.data()), words_.data(),
                          static_cast<int64_t>(packed_.words.size()));
  }
  const PackedLayout& packed() const { return packed_; }
  const int32_t* words() const { return reinterpret_cast<const int32_t*>(words_.data()); }

 private:
  PackedLayout packed_;
  Scratch words_;
};

inline SparseCall sparse_call(const AttentionInputs& in, const BlockSparseLayout& layout, const DeviceLayout& dev,
                              int tile) {
  const PackedLayout& p = dev.packed();
  const int64_t T = std::min<int64_t>(tile, layout.block);
  return {in, dev.words(), layout.block, p.patterns, p.max_parts, p.max_query_blocks, T, (layout.block + T - 1) / T};
}

inline dim3 sparse_grid(const SparseCall& call) {
  return dim3(static_cast<unsigned>(call.in.bh * call.max_query_blocks * call.row_groups));
}

template <class Launch>
void block_sparse_attention_forward(const Launch& launch, Backend& memory, const AttentionInputs& in,
                                    const BlockSparseLayout& layout, float* o, float* lse) {
  const int64_t rows = in.bh * in.n_q;
  if (rows == 0) return;
  const int T = attention_tile(softmax_forward_tile, in.d, "block_sparse_attention_forward");
  const DeviceLayout dev(memory, layout);
  const SparseCall call = sparse_call(in, layout, dev, T);
  Scratch l_sum(memory, rows);
  launch(sparse_start_kernel, blocks_for(rows), dim3(kThreads), 0, o, lse, l_sum.data(), rows, in.d);
  if (call.max_query_blocks > 0)
    for (int64_t slot = 0; slot < call.max_parts; ++slot)
      launch(sparse_forward_part_kernel, sparse_grid(call), dim3(kFusedThreads),
             SoftmaxForwardTiles::floats(call.tile, in.d) * sizeof(float), call, slot, o, lse, l_sum.data());
  launch(sparse_finish_kernel, blocks_for(rows), dim3(kThreads), 0, o, lse, l_sum.data(), rows, in.d);
}

template <class Launch>
void block_sparse_attention_backward(const Launch& launch, Backend& memory, const AttentionInputs& in,
                                     const BlockSparseLayout& layout, const float* o, const float* lse,
                                     const float* d_o, float* dq, float* dk, float* dv) {
  const int64_t query_floats = in.bh * in.n_q * in.d, key_floats = in.bh * in.n_k * in.d;
  for (auto [p, n] : {std::pair{dq, query_floats}, std::pair{dk, key_floats}, std::pair{dv, key_floats}})
    launch(zero_kernel, blocks_for(n), dim3(kThreads), 0, p, n);
  if (query_floats == 0) return;
  const int T = attention_tile(softmax_backward_tile, in.d, "block_sparse_attention_backward");
  const DeviceLayout dev(memory, layout);
  const SparseCall call = sparse_call(in, layout, dev, T);
  if (call.max_query_blocks > 0)
    for (int64_t slot = 0; slot < call.max_parts; ++slot)
      launch(sparse_backward_part_kernel, sparse_grid(call), dim3(kFusedThreads),
             SoftmaxBackwardTiles::floats(call.tile, in.d) * sizeof(float), call, slot, o, lse, d_o, dq, dk, dv);
}

}  // namespace ta::cuda_kernels

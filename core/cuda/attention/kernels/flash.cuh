// core/cuda/attention/kernels/flash.cuh — FLASH attention on the GPU (Hua et al. 2022, mixed
// chunk attention) and the GAU's scale-offset: the semantics of Backend::flash_forward,
// flash_backward, scale_offset and scale_offset_backward (core/attention/backend_ops.h; the function
// is written out in core/attention/flash_options.h, the CPU twin is core/cpu/attention/flash.cpp).
//
// The same steps as the CPU kernel, each a launch. With w_i, u_i the row weights and
// P_g the linear state:
//
//   forward   0. per batch element:    w, u (counts of the keys each part reads)
//             1. per chunk g:          KV_g = Kl_g^T V_g                        [s, e]
//             2. across chunks:        P_g = sum_{h < g} KV_h (causal), or the total
//             3. per query tile of a chunk, over its visible key tiles:
//                                      A = w relu(score_scale Qq Kq^T + bias)^2 (masked)
//                                      out = A V + (u Ql) P_g
//   backward  A. per chunk:            dQl = u (dO P_g^T),  D_g = (u Ql)^T dO
//             B. across chunks:        R_h = sum_{g > h} D_g (causal), or the total
//             C. per chunk:            dKl = V R^T,  dV = Kl R
//             D. per key tile of a chunk, over the query tiles that see it:
//                                      dV += A^T dO,  dS = 2 w relu(S) (dO V^T),
//                                      dKq += score_scale dS^T Qq,  dQq += score_scale dS Kq,
//                                      dbias[j - i] += dS
//
// In step D a block owns its key tile (dKq, dV written without atomics) while dQq and
// dbias collect from every key tile, atomically (their summation order varies from
// run to run, within float rounding). The quadratic tiles keep Qq, Kq and the scores
// in shared memory; V, dO and the [s, e] states are read from global memory.
#pragma once

#include "core/attention/flash_options.h"
#include "core/cuda/attention/kernels/tile_math.cuh"
#include "core/cuda/device_compat.h"
#include "core/cuda/kernels/grid.cuh"
#include "core/error.h"
#include "core/scratch.h"

namespace ta::cuda_kernels {

// One call's geometry (see core/attention/flash_options.h): batch B, length n, widths s and e,
// chunk length c, G chunks, bias table length L; the four planes of qk.
struct FlashCall {
  int64_t B, n, s, e, c, G, L;
  bool linear, causal;
  FlashScaling scaling;
  float score_scale, lin_scale;
  const float *qq, *kq, *ql, *kl, *v, *bias, *pad;
  int64_t tile;  // T: query and key rows of a quadratic tile

  __device__ int64_t begin(int64_t g) const { return g * c; }
  __device__ int64_t end(int64_t g) const { return min_of(n, (g + 1) * c); }
  __device__ bool padded(int64_t b, int64_t j) const { return pad != nullptr && pad[b * n + j] != 0.0f; }
  // Slots of the linear state per batch element: one per chunk (causal) or the total.
  __device__ int64_t state_slots() const { return causal ? G : 1; }
  // The linear state chunk g reads (causal: the prefix before it; else the total).
  __device__ const float* state_of(const float* state, int64_t b, int64_t g) const {
    return state + (b * state_slots() + (causal ? g : 0)) * s * e;
  }
  // Whether query i sees key j: not a later key (causal), not a padded one.
  __device__ bool sees(int64_t b, int64_t i, int64_t j) const { return !(causal && j > i) && !padded(b, j); }
  // relu(score_scale q_i.k_j + bias(j - i)) where query i sees key j, else 0.
  // Masking after the activation keeps masked pairs out of every sum exactly; the
  // products then skip them (block_matmul_where), so a NaN in a hidden key or value
  // reaches no sum either.
  __device__ float relu_score(int64_t b, int64_t i, int64_t j, float dot) const {
    if (!sees(b, i, j)) return 0.0f;
    return fmaxf(score_scale * dot + (bias ? bias[j - i + L - 1] : 0.0f), 0.0f);
  }
};

// Shared memory of a quadratic tile: Qq and Kq rows [T, s], dKq [T, s] (backward),
// scores and dS [T, T] (dS backward only).
inline int64_t flash_tile_floats(int64_t T, int64_t s, bool backward) {
  return backward ? 3 * T * s + 2 * T * T : 2 * T * s + T * T;
}

inline FlashCall flash_call(const FlashDims& d, const FlashOptions& o, const float* qk, const float* v,
                            const float* rel_bias, const float* key_pad, bool backward, const char* op) {
  const int64_t c = o.chunk_length(d.n), plane = d.batch * d.n * d.s;
  const int T = fit_tile_rows([&](int64_t t) { return flash_tile_floats(t, d.s, backward); });
  TA_CHECK(T > 0, op, ": width s = ", d.s, " is too large for the CUDA kernel's shared memory (",
           kSharedMemoryBytes, " bytes per block)");
  FlashCall f{};
  f.B = d.batch;
  f.n = d.n;
  f.s = d.s;
  f.e = d.e;
  f.c = c;
  f.G = (d.n + c - 1) / c;
  f.L = d.bias_len;
  f.linear = d.linear;
  f.causal = o.causal;
  f.scaling = o.scaling;
  f.score_scale = o.score_scale;
  f.lin_scale = o.lin_scale;
  f.qq = qk;
  f.kq = qk + plane;
  f.ql = d.linear ? qk + 2 * plane : nullptr;
  f.kl = d.linear ? qk + 3 * plane : nullptr;
  f.v = v;
  f.bias = rel_bias;
  f.pad = key_pad;
  f.tile = T;
  return f;
}

// 0. Row weights w[b n + i] and u[b n + i]: flash_row_weights of core/attention/flash_options.h
// (shared with the CPU kernel), one thread per batch element.
__global__ inline void flash_row_weights_kernel(FlashCall f, float* w, float* u) {
  if (threadIdx.x != 0) return;
  flash_row_weights(f, blockIdx.x, f.scaling, f.lin_scale, w, u);
}

// 1. KV_g = Kl_g^T V_g for chunk g of batch element b (block b G + g), padded keys left
// out: kv [B, G, s, e].
__global__ inline void flash_chunk_state_kernel(FlashCall f, float* kv) {
  const int64_t b = blockIdx.x / f.G, g = blockIdx.x % f.G, j0 = f.begin(g);
  const float *K = f.kl + (b * f.n + j0) * f.s, *V = f.v + (b * f.n + j0) * f.e;
  float* out = kv + static_cast<int64_t>(blockIdx.x) * f.s * f.e;
  block_matmul_where(
      f.s, f.e, f.end(g) - j0, Transposed{K, f.s}, RowMajor{V, f.e},
      [&](int64_t, int64_t r) { return !f.padded(b, j0 + r); },
      [&](int64_t k, int64_t col, float x) { out[k * f.e + col] = x; });
}

// Per row i of the batch: 1 where the output gradient d_out [B n, e] is zero, which
// leaves the row out of every product of the backward (core/cpu/attention/masked_tiles.h).
__global__ inline void flash_silent_rows_kernel(FlashCall f, const float* d_out, float* silent) {
  for (int64_t i = grid_first(); i < f.B * f.n; i += grid_step()) {
    bool zero = true;
    for (int64_t c = 0; c < f.e && zero; ++c) zero = d_out[i * f.e + c] == 0.0f;
    silent[i] = zero ? 1.0f : 0.0f;
  }
}

// 2. / B. Per column of the [s, e] states x [B, G, s, e], one thread each. Causal:
// x[g] <- sum_{h < g} x[h] (reverse: sum_{h > g} x[h]) in place, an exclusive running
// sum, so that slot g never holds chunk g itself. Bidirectional: the total over g
// goes to out + b out_stride (the other slots of x are left as they are).
__global__ inline void flash_combine_chunks_kernel(FlashCall f, float* x, float* out, int64_t out_stride,
                                                   bool reverse) {
  const int64_t width = f.s * f.e;
  for (int64_t idx = grid_first(); idx < f.B * width; idx += grid_step()) {
    const int64_t b = idx / width, k = idx % width;
    float* column = x + b * f.G * width + k;
    float running = 0.0f;
    for (int64_t step = 0; step < f.G; ++step) {
      float& slot = column[(reverse ? f.G - 1 - step : step) * width];
      const float here = slot;
      if (f.causal) slot = running;
      running += here;
    }
    if (!f.causal) out[b * out_stride + k] = running;
  }
}

// Where a quadratic block works: batch element b, chunk g, and rows r0 .. r0 + count - 1
// (queries in the forward, keys in the backward), tile t of the chunk; count = 0 for
// a tile past the chunk's end.
struct FlashTile {
  int64_t b, g, r0, count;
  __device__ FlashTile(const FlashCall& f) {
    const int64_t tiles = (f.c + f.tile - 1) / f.tile;
    b = blockIdx.x / (f.G * tiles);
    g = blockIdx.x / tiles % f.G;
    r0 = f.begin(g) + blockIdx.x % tiles * f.tile;
    count = r0 < f.end(g) ? min_of(f.tile, f.end(g) - r0) : 0;
  }
};

// 3. The output rows of one query tile: the quadratic part over the visible key tiles
// of its chunk, then the linear part from the state.
__global__ inline void flash_forward_tile_kernel(FlashCall f, const float* w, const float* u, const float* state,
                                                 float* out) {
  TA_DYNAMIC_SHARED(float, shared);
  const FlashTile qt(f);
  if (qt.count == 0) return;
  const int64_t T = f.tile, s = f.s, e = f.e, b = qt.b, i0 = qt.r0, rows = qt.count;
  float *q = shared, *k = q + T * s, *a = k + T * s;
  float* O = out + (b * f.n + i0) * e;
  load_rows(q, f.qq + (b * f.n + i0) * s, rows, s, [&](int64_t r) { return r; });
  const int64_t key_end = f.causal ? i0 + rows : f.end(qt.g);
  for (int64_t j0 = f.begin(qt.g); j0 < key_end; j0 += T) {
    const int64_t cols = min_of(T, key_end - j0);
    __syncthreads();  // the previous key tile is no longer read
    load_rows(k, f.kq + (b * f.n + j0) * s, cols, s, [&](int64_t c) { return c; });
    __syncthreads();
    block_matmul(rows, cols, s, RowMajor{q, s}, Transposed{k, s}, [&](int64_t r, int64_t c, float x) {
      const float relu = f.relu_score(b, i0 + r, j0 + c, x);
      a[r * cols + c] = w[b * f.n + i0 + r] * relu * relu;
    });
    __syncthreads();
    const bool first = j0 == f.begin(qt.g);
    block_matmul_where(
        rows, e, cols, RowMajor{a, cols}, RowMajor{f.v + (b * f.n + j0) * e, e},
        [&](int64_t r, int64_t c) { return f.sees(b, i0 + r, j0 + c); },
        [&](int64_t r, int64_t col, float x) { O[r * e + col] = first ? x : O[r * e + col] + x; });
  }
  if (f.linear && !(f.causal && qt.g == 0)) {  // the first causal chunk has nothing before it
    const float *QL = f.ql + (b * f.n + i0) * s, *P = f.state_of(state, b, qt.g);
    block_matmul(
        rows, e, s, [&](int64_t r, int64_t kk) { return u[b * f.n + i0 + r] * QL[r * s + kk]; }, RowMajor{P, e},
        [&](int64_t r, int64_t col, float x) { O[r * e + col] += x; });
  }
}

// A. For chunk g of batch element b: dQl = u (dO P_g^T) (0 for the first causal chunk)
// and D_g = (u Ql)^T dO into dstate [B, G, s, e]; silent rows give 0 and take no part.
__global__ inline void flash_linear_query_grads_kernel(FlashCall f, const float* u, const float* silent,
                                                       const float* state, const float* d_out, float* dql,
                                                       float* dstate) {
  const int64_t b = blockIdx.x / f.G, g = blockIdx.x % f.G, i0 = f.begin(g), m = f.end(g) - i0, s = f.s, e = f.e;
  const float *dO = d_out + (b * f.n + i0) * e, *QL = f.ql + (b * f.n + i0) * s, *U = u + b * f.n + i0;
  const float* quiet = silent + b * f.n + i0;
  float* dQL = dql + (b * f.n + i0) * s;
  if (f.causal && g == 0) {
    block_fill(dQL, m * s, 0.0f);
  } else {
    block_matmul(m, s, e, RowMajor{dO, e}, Transposed{f.state_of(state, b, g), e},
                 [&](int64_t r, int64_t k, float x) { dQL[r * s + k] = quiet[r] != 0.0f ? 0.0f : U[r] * x; });
  }
  float* D = dstate + static_cast<int64_t>(blockIdx.x) * s * e;
  block_matmul_where(
      s, e, m, [&](int64_t k, int64_t r) { return U[r] * QL[r * s + k]; }, RowMajor{dO, e},
      [&](int64_t, int64_t r) { return quiet[r] == 0.0f; },
      [&](int64_t k, int64_t col, float x) { D[k * e + col] = x; });
}

// C. For chunk g of batch element b, with R its share of the later (or all) chunks'
// D: dKl = V R^T (0 for padded keys) and dV = Kl R (padded keys' Kl read as 0); both
// 0 for the last causal chunk, which no later query reads, and wherever R is zero as
// a whole (no later query has a gradient: nothing to multiply through).
__global__ inline void flash_linear_key_grads_kernel(FlashCall f, const float* dstate, float* dkl, float* dv) {
  const int64_t b = blockIdx.x / f.G, g = blockIdx.x % f.G, j0 = f.begin(g), m = f.end(g) - j0, s = f.s, e = f.e;
  float *dKL = dkl + (b * f.n + j0) * s, *dV = dv + (b * f.n + j0) * e;
  const float *R = dstate + (b * f.G + (f.causal ? g : 0)) * s * e, *V = f.v + (b * f.n + j0) * e,
              *K = f.kl + (b * f.n + j0) * s;
  if ((f.causal && g == f.G - 1) || block_all_zero(R, s * e)) {
    block_fill(dKL, m * s, 0.0f);
    block_fill(dV, m * e, 0.0f);
    return;
  }
  block_matmul(m, s, e, RowMajor{V, e}, Transposed{R, e},
               [&](int64_t r, int64_t k, float x) { dKL[r * s + k] = f.padded(b, j0 + r) ? 0.0f : x; });
  block_matmul(
      m, e, s, [&](int64_t r, int64_t k) { return f.padded(b, j0 + r) ? 0.0f : K[r * s + k]; }, RowMajor{R, e},
      [&](int64_t r, int64_t col, float x) { dV[r * e + col] = x; });
}

// D. One key tile of the quadratic part against the query tiles of its chunk that see
// it, over the visible pairs of the rows that are not silent. dV must already hold the
// linear part's share (or zeros); dQq and drel_bias are accumulated atomically.
__global__ inline void flash_backward_tile_kernel(FlashCall f, const float* w, const float* silent,
                                                  const float* d_out, float* dqq, float* dkq, float* dv,
                                                  float* drel_bias) {
  TA_DYNAMIC_SHARED(float, shared);
  const FlashTile kt(f);
  if (kt.count == 0) return;
  const int64_t T = f.tile, s = f.s, e = f.e, b = kt.b, j0 = kt.r0, cols = kt.count;
  float *k = shared, *dk = k + T * s, *q = dk + T * s, *relu = q + T * s, *ds = relu + T * T;
  const float* V = f.v + (b * f.n + j0) * e;
  float* dV = dv + (b * f.n + j0) * e;
  load_rows(k, f.kq + (b * f.n + j0) * s, cols, s, [&](int64_t c) { return c; });
  block_fill(dk, cols * s, 0.0f);
  for (int64_t i0 = f.causal ? j0 : f.begin(kt.g); i0 < f.end(kt.g); i0 += T) {
    const int64_t rows = min_of(T, f.end(kt.g) - i0);
    const float* dO = d_out + (b * f.n + i0) * e;
    const float *W = w + b * f.n + i0, *quiet = silent + b * f.n + i0;
    auto live = [&](int64_t r) { return quiet[r] == 0.0f; };
    auto used = [&](int64_t r, int64_t c) { return live(r) && f.sees(b, i0 + r, j0 + c); };
    __syncthreads();  // the previous query tile is no longer read
    load_rows(q, f.qq + (b * f.n + i0) * s, rows, s, [&](int64_t r) { return r; });
    __syncthreads();
    block_matmul(rows, cols, s, RowMajor{q, s}, Transposed{k, s},
                 [&](int64_t r, int64_t c, float x) { relu[r * cols + c] = f.relu_score(b, i0 + r, j0 + c, x); });
    __syncthreads();
    // dV += A^T dO with A = w relu^2;  dS = (dO V^T) 2 w relu;  dbias[j - i] += dS
    block_matmul_where(
        cols, e, rows, [&](int64_t c, int64_t r) { return W[r] * relu[r * cols + c] * relu[r * cols + c]; },
        RowMajor{dO, e}, [&](int64_t c, int64_t r) { return used(r, c); },
        [&](int64_t c, int64_t col, float x) { dV[c * e + col] += x; });
    block_matmul(rows, cols, e, RowMajor{dO, e}, Transposed{V, e}, [&](int64_t r, int64_t c, float x) {
      const float grad = used(r, c) ? x * 2.0f * W[r] * relu[r * cols + c] : 0.0f;
      ds[r * cols + c] = grad;
      if (drel_bias && grad != 0.0f) atomicAdd(drel_bias + (j0 + c - (i0 + r) + f.L - 1), grad);
    });
    __syncthreads();
    // dKq += score_scale dS^T Qq;  dQq += score_scale dS Kq
    block_matmul_where(
        cols, s, rows, Transposed{ds, cols}, RowMajor{q, s}, [&](int64_t, int64_t r) { return live(r); },
        [&](int64_t c, int64_t kk, float x) { dk[c * s + kk] += f.score_scale * x; });
    block_matmul_where(rows, s, cols, RowMajor{ds, cols}, RowMajor{k, s}, used, [&](int64_t r, int64_t kk, float x) {
      atomicAdd(dqq + (b * f.n + i0 + r) * s + kk, f.score_scale * x);
    });
  }
  __syncthreads();
  for (int64_t idx = threadIdx.x; idx < cols * s; idx += blockDim.x) dkq[(b * f.n + j0) * s + idx] = dk[idx];
}

inline dim3 flash_tile_grid(const FlashCall& f) {
  return dim3(static_cast<unsigned>(f.B * f.G * ((f.c + f.tile - 1) / f.tile)));
}

template <class Launch>
void flash_forward(const Launch& launch, Backend& memory, const FlashDims& dims, const FlashOptions& options,
                   const float* qk, const float* v, const float* rel_bias, const float* key_pad, float* out,
                   float* state) {
  if (dims.n == 0 || dims.batch == 0) return;
  const FlashCall f = flash_call(dims, options, qk, v, rel_bias, key_pad, false, "flash_forward");
  const dim3 chunks(static_cast<unsigned>(f.B * f.G)), threads(kFusedThreads);
  Scratch weights(memory, 2 * f.B * f.n);
  float *w = weights.data(), *u = w + f.B * f.n;
  launch(flash_row_weights_kernel, dim3(static_cast<unsigned>(f.B)), dim3(1), 0, f, w, u);
  if (f.linear) {
    // Causal: the per-chunk states become their exclusive prefix sums in place.
    // Bidirectional: they go to scratch, and their total to the state.
    Scratch per_chunk(memory, f.causal ? 0 : f.B * f.G * f.s * f.e);
    float* kv = f.causal ? state : per_chunk.data();
    launch(flash_chunk_state_kernel, chunks, threads, 0, f, kv);
    launch(flash_combine_chunks_kernel, blocks_for(f.B * f.s * f.e), dim3(kThreads), 0, f, kv, state, f.s * f.e,
           false);
  }
  launch(flash_forward_tile_kernel, flash_tile_grid(f), threads,
         flash_tile_floats(f.tile, f.s, false) * sizeof(float), f, w, u, state, out);
}

template <class Launch>
void flash_backward(const Launch& launch, Backend& memory, const FlashDims& dims, const FlashOptions& options,
                    const float* qk, const float* v, const float* rel_bias, const float* key_pad, const float* state,
                    const float* d_out, float* dqk, float* dv, float* drel_bias) {
  if (drel_bias && rel_bias)
    launch(zero_kernel, blocks_for(2 * dims.bias_len - 1), dim3(kThreads), 0, drel_bias, 2 * dims.bias_len - 1);
  if (dims.n == 0 || dims.batch == 0) return;
  const FlashCall f = flash_call(dims, options, qk, v, rel_bias, key_pad, true, "flash_backward");
  const int64_t plane = f.B * f.n * f.s;
  const dim3 chunks(static_cast<unsigned>(f.B * f.G)), threads(kFusedThreads);
  Scratch weights(memory, 3 * f.B * f.n);
  float *w = weights.data(), *u = w + f.B * f.n, *silent = u + f.B * f.n;
  launch(flash_row_weights_kernel, dim3(static_cast<unsigned>(f.B)), dim3(1), 0, f, w, u);
  launch(flash_silent_rows_kernel, blocks_for(f.B * f.n), dim3(kThreads), 0, f, d_out, silent);
  if (f.linear) {
    Scratch dstate(memory, f.B * f.G * f.s * f.e);  // D_g, then R_h
    launch(flash_linear_query_grads_kernel, chunks, threads, 0, f, u, silent, state, d_out, dqk + 2 * plane,
           dstate.data());
    launch(flash_combine_chunks_kernel, blocks_for(f.B * f.s * f.e), dim3(kThreads), 0, f, dstate.data(),
           dstate.data(), f.G * f.s * f.e, true);
    launch(flash_linear_key_grads_kernel, chunks, threads, 0, f, dstate.data(), dqk + 3 * plane, dv);
  } else {
    launch(zero_kernel, blocks_for(f.B * f.n * f.e), dim3(kThreads), 0, dv, f.B * f.n * f.e);
  }
  launch(zero_kernel, blocks_for(plane), dim3(kThreads), 0, dqk, plane);
  launch(flash_backward_tile_kernel, flash_tile_grid(f), threads, flash_tile_floats(f.tile, f.s, true) * sizeof(float),
         f, w, silent, d_out, dqk, dqk + plane, dv, rel_bias ? drel_bias : nullptr);
}

// y[p, row, k] = z[row, k] gamma[p, k] + beta[p, k], one thread per entry of y.
__global__ inline void scale_offset_kernel(const float* z, const float* gamma, const float* beta, float* y,
                                           int64_t rows, int64_t planes, int64_t s) {
  for (int64_t idx = grid_first(); idx < planes * rows * s; idx += grid_step()) {
    const int64_t p = idx / (rows * s), k = idx % s;
    y[idx] = z[idx % (rows * s)] * gamma[p * s + k] + beta[p * s + k];
  }
}

// dz[row, k] = sum_p dy[p, row, k] gamma[p, k], one thread per entry of dz.
__global__ inline void scale_offset_dz_kernel(const float* gamma, const float* dy, float* dz, int64_t rows,
                                              int64_t planes, int64_t s) {
  for (int64_t idx = grid_first(); idx < rows * s; idx += grid_step()) {
    float sum = 0.0f;
    for (int64_t p = 0; p < planes; ++p) sum += dy[p * rows * s + idx] * gamma[p * s + idx % s];
    dz[idx] = sum;
  }
}

// dgamma[p, k] = sum_row dy[p, row, k] z[row, k] and dbeta[p, k] = sum_row dy[p, row, k],
// one thread per (p, k) walking the rows in order (the same sums on every run).
__global__ inline void scale_offset_params_kernel(const float* z, const float* dy, float* dgamma, float* dbeta,
                                                  int64_t rows, int64_t planes, int64_t s) {
  for (int64_t idx = grid_first(); idx < planes * s; idx += grid_step()) {
    const int64_t p = idx / s, k = idx % s;
    float g = 0.0f, bsum = 0.0f;
    for (int64_t r = 0; r < rows; ++r) {
      const float d = dy[(p * rows + r) * s + k];
      g += d * z[r * s + k];
      bsum += d;
    }
    dgamma[idx] = g;
    dbeta[idx] = bsum;
  }
}

template <class Launch>
void scale_offset(const Launch& launch, const float* z, const float* gamma, const float* beta, float* y, int64_t rows,
                  int64_t planes, int64_t s) {
  launch(scale_offset_kernel, blocks_for(planes * rows * s), dim3(kThreads), 0, z, gamma, beta, y, rows, planes, s);
}

template <class Launch>
void scale_offset_backward(const Launch& launch, const float* z, const float* gamma, const float* dy, float* dz,
                           float* dgamma, float* dbeta, int64_t rows, int64_t planes, int64_t s) {
  launch(scale_offset_dz_kernel, blocks_for(rows * s), dim3(kThreads), 0, gamma, dy, dz, rows, planes, s);
  launch(scale_offset_params_kernel, blocks_for(planes * s), dim3(kThreads), 0, z, dy, dgamma, dbeta, rows, planes,
         s);
}

}  // namespace ta::cuda_kernels

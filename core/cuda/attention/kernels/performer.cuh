// core/cuda/attention/kernels/performer.cuh — fused causal FAVOR+ attention on the GPU (Performer,
// Choromanski et al. 2020): the semantics of Backend::favor_causal_forward and
// favor_causal_backward (core/attention/backend_ops.h; the CPU twin, whose header comment derives
// every formula used here, is core/cpu/attention/performer.cpp).
//
// Causal linear attention is a scan: the state after chunk g feeds chunk g + 1. So a
// head is one thread block walking its chunks in order (the forward, and the
// backward's forward sweep for dQ), or in reverse (the backward's sweep for dK and dV,
// a second block of the same head), while the threads of the block share the work
// inside a chunk: the [C, m], [C, C] and [m, d+1] products and the element-wise steps.
// Per head, with features qf = phi(q), kf = phi(k), V_ext = [V | 1] and the running
// key maxima M (the softmax kernel's stabilizer):
//
//   forward     t = f o (QF S) + (A o F) V_ext,  A = QF KF^T,  F_rc = exp(M_c - M_r) (c <= r)
//               o = t[:, :d] / max(t[:, d], 1e-30),  den = t[:, d]
//               S <- exp(Ms - M') S + (h o KF)^T V_ext     (the chunk absorbed into the state)
//   dQ sweep    dqf = f o (G_ext S^T) + (G_ext V_ext^T o F) KF,   dq = root phi'(dqf) W
//   dK/dV sweep dkf = h o (V_ext R^T) + (G_ext V_ext^T o F)^T QF,  dv = (h o KF) R[:, :d] + (A o F)^T G
//               R <- exp(Ms - M_last) R + (f o QF)^T G_ext     (the chunk's queries absorbed)
//               dk = root phi'(dkf) W  (softmax kernel: - scale rowsum(dkf') k)
//
// The chunk's scratch (features, tiles, the m x (d+1) state) lives in a global scratch
// buffer per block, O(C m + C^2 + m d) floats: nothing of size n x m is ever stored.
#pragma once

#include "core/cuda/attention/kernels/tile_math.cuh"
#include "core/cuda/device_compat.h"
#include "core/cuda/kernels/grid.cuh"
#include "core/elementwise_math.h"
#include "core/scratch.h"

namespace ta::cuda_kernels {

constexpr int64_t kFavorChunk = 64;    // tokens per chunk
constexpr float kFavorNoKey = -1e30f;  // the running maximum before any visible key
constexpr float kFavorDenFloor = 1e-30f;
constexpr float kFavorReluEps = 1e-3f;

// The inputs of one call (see Backend::favor_causal_forward).
struct FavorInputs {
  const float *q, *k, *v, *w, *key_pad;
  int64_t bh, heads, n_q, n_k, d, m;
  float scale;
  bool relu;  // FavorKernel::Relu, else the softmax kernel
};

// One head's view: its rows of q, k, v, its padding row, and root = sqrt(scale).
struct FavorHead {
  const float *q, *k, *v, *pad;
  int64_t index;
  __device__ FavorHead(const FavorInputs& in, int64_t b)
      : q(in.q + b * in.n_q * in.d), k(in.k + b * in.n_k * in.d), v(in.v + b * in.n_k * in.d),
        pad(in.key_pad ? in.key_pad + (b / in.heads) * in.n_k : nullptr), index(b) {}
  __device__ bool padded(int64_t j) const { return pad && pad[j] != 0.0f; }
};

// A chunk: keys p0 .. p0 + rows - 1 and, unless i0 < 0, the queries i0 .. with them
// (query i sees keys j <= i + n_k - n_q). Keys no query of the call owns (n_k > n_q)
// come first, in chunks without queries.
struct FavorChunk {
  int64_t p0, rows, i0;
};

__device__ inline int64_t favor_key_only_chunks(const FavorInputs& in) {
  return (in.n_k - in.n_q + kFavorChunk - 1) / kFavorChunk;
}
__device__ inline int64_t favor_chunks(const FavorInputs& in) {
  return favor_key_only_chunks(in) + (in.n_q + kFavorChunk - 1) / kFavorChunk;
}
__device__ inline FavorChunk favor_chunk(const FavorInputs& in, int64_t index) {
  const int64_t shift = in.n_k - in.n_q, key_only = favor_key_only_chunks(in);
  if (index < key_only) return {index * kFavorChunk, min_of(kFavorChunk, shift - index * kFavorChunk), -1};
  const int64_t i0 = (index - key_only) * kFavorChunk;
  return {i0 + shift, min_of(kFavorChunk, in.n_q - i0), i0};
}

// The scratch of one block: projections pq, pk and features qf, kf, kfh (= h o kf),
// dqf, dkf [C, m]; the C x C tiles a (A = QF KF^T) and g (dW = G_ext V_ext^T); the
// [C, d+1] rows V_ext, G_ext and t; the [m, d+1] state (S, or R in the reverse sweep);
// one value per chunk row; and per query row of the chunk, 1 where its dO is zero
// (silent: left out of every product, core/cpu/attention/masked_tiles.h).
struct FavorWork {
  float *pq, *qf, *pk, *kf, *kfh, *dqf, *dkf, *a, *g, *vext, *gext, *t, *state, *row, *silent;
  __host__ __device__ static int64_t floats(int64_t m, int64_t d) {
    const int64_t C = kFavorChunk, d1 = d + 1;
    return 7 * C * m + 2 * C * C + 3 * C * d1 + m * d1 + 2 * C;
  }
  // The arrays one after another from base, in the order of the members.
  __device__ FavorWork(float* base, int64_t m, int64_t d) {
    const int64_t C = kFavorChunk, d1 = d + 1;
    const struct {
      float** array;
      int64_t floats;
    } layout[] = {{&pq, C * m},    {&qf, C * m},     {&pk, C * m},     {&kf, C * m},    {&kfh, C * m},
                  {&dqf, C * m},   {&dkf, C * m},    {&a, C * C},      {&g, C * C},     {&vext, C * d1},
                  {&gext, C * d1}, {&t, C * d1},     {&state, m * d1}, {&row, C},       {&silent, C}};
    for (const auto& part : layout) {
      *part.array = base;
      base += part.floats;
    }
  }
};

// p = root X W^T for `rows` rows of X [.., d]: the projections w_r . x'.
__device__ inline void favor_project(const FavorInputs& in, const float* x, int64_t rows, float* p) {
  const float root = sqrtf(in.scale);
  block_matmul(rows, in.m, in.d, RowMajor{x, in.d}, Transposed{in.w, in.d},
               [&](int64_t r, int64_t c, float v) { p[r * in.m + c] = root * v; });
}

// The keys of a chunk into w.kf, from w.pk: softmax kernel, the exponents
// e_jr = w_r.k'_j - |k'_j|^2 / 2 (kept in w.pk), then kf_j = exp(e_j - M_j); ReLU,
// kf = relu(p) + eps. Padded keys get 0. km is the running maximum M of the chunk's
// keys: the forward passes km_out = km, and M continues from the previous chunk's
// last key into it; the backward reads the saved M (km_out null).
__device__ inline void favor_chunk_keys(const FavorInputs& in, const FavorHead& h, const FavorChunk& ch,
                                        const FavorWork& w, const float* km, float* km_out) {
  const int64_t m = in.m, d = in.d;
  const float* K = h.k + ch.p0 * d;
  favor_project(in, K, ch.rows, w.pk);
  __syncthreads();
  for (int64_t j = threadIdx.x; j < ch.rows && !in.relu; j += blockDim.x) {
    float sq = 0.0f;
    for (int64_t c = 0; c < d; ++c) sq += K[j * d + c] * K[j * d + c];
    sq *= 0.5f * in.scale;
    float mx = -INFINITY;
    for (int64_t c = 0; c < m; ++c) {
      w.pk[j * m + c] -= sq;
      mx = fmaxf(mx, w.pk[j * m + c]);
    }
    w.row[j] = mx;
  }
  __syncthreads();
  if (km_out && threadIdx.x == 0) {
    float running = ch.p0 > 0 ? km_out[-1] : kFavorNoKey;
    for (int64_t j = 0; j < ch.rows; ++j) {
      if (!in.relu && !h.padded(ch.p0 + j)) running = fmaxf(running, w.row[j]);
      km_out[j] = in.relu ? 0.0f : running;
    }
  }
  __syncthreads();
  for (int64_t idx = threadIdx.x; idx < ch.rows * m; idx += blockDim.x) {
    const int64_t j = idx / m;
    const float e = w.pk[idx];
    w.kf[idx] = h.padded(ch.p0 + j) ? 0.0f : (in.relu ? fmaxf(e, 0.0f) + kFavorReluEps : expf(e - km[j]));
  }
}

// The queries of a chunk: w.pq = the projections, w.qf = exp(p - max_r p) (softmax
// kernel) or relu(p) + eps, one thread per row.
__device__ inline void favor_chunk_queries(const FavorInputs& in, const FavorHead& h, const FavorChunk& ch,
                                           const FavorWork& w) {
  const int64_t m = in.m;
  favor_project(in, h.q + ch.i0 * in.d, ch.rows, w.pq);
  __syncthreads();
  for (int64_t r = threadIdx.x; r < ch.rows; r += blockDim.x) {
    const float* p = w.pq + r * m;
    float* qf = w.qf + r * m;
    if (in.relu) {
      for (int64_t c = 0; c < m; ++c) qf[c] = fmaxf(p[c], 0.0f) + kFavorReluEps;
      continue;
    }
    float mx = p[0];
    for (int64_t c = 1; c < m; ++c) mx = fmaxf(mx, p[c]);
    for (int64_t c = 0; c < m; ++c) qf[c] = expf(p[c] - mx);
  }
}

// V_ext = [V | 1] for the chunk's keys; 0 for padded keys (read as 0, not weighted by 0).
__device__ inline void favor_extend_values(const FavorInputs& in, const FavorHead& h, const FavorChunk& ch,
                                           const FavorWork& w) {
  const int64_t d = in.d, d1 = d + 1;
  for (int64_t idx = threadIdx.x; idx < ch.rows * d1; idx += blockDim.x) {
    const int64_t j = idx / d1, c = idx % d1;
    w.vext[idx] = h.padded(ch.p0 + j) ? 0.0f : (c < d ? h.v[(ch.p0 + j) * d + c] : 1.0f);
  }
}

// G_ext = [dO / D | -dO.o / den] for the chunk's queries (0 in the last column where
// the floor applied), and w.silent; a silent row's G_ext is 0. One thread per row.
__device__ inline void favor_extend_grads(const FavorInputs& in, const FavorChunk& ch, const float* o,
                                          const float* den, const float* d_o, const FavorWork& w) {
  const int64_t d = in.d, d1 = d + 1;
  for (int64_t r = threadIdx.x; r < ch.rows; r += blockDim.x) {
    const int64_t i = ch.i0 + r;
    bool zero = true;
    for (int64_t c = 0; c < d && zero; ++c) zero = d_o[i * d + c] == 0.0f;
    w.silent[r] = zero ? 1.0f : 0.0f;
    if (zero) {
      for (int64_t c = 0; c < d1; ++c) w.gext[r * d1 + c] = 0.0f;
      continue;
    }
    const float dn = den[i], inv = 1.0f / fmaxf(dn, kFavorDenFloor);
    float dot = 0.0f;
    for (int64_t c = 0; c < d; ++c) {
      w.gext[r * d1 + c] = d_o[i * d + c] * inv;
      dot += d_o[i * d + c] * o[i * d + c];
    }
    w.gext[r * d1 + d] = dn >= kFavorDenFloor ? -dot / dn : 0.0f;
  }
}

// x [rows, rows] *= F: exp(M_c - M_r) on and below the diagonal, 0 above it; and 0 in
// the rows that `skip(r)` leaves out.
template <class Skip>
__device__ void favor_causal_factor(int64_t rows, const float* km, float* x, Skip skip) {
  for (int64_t idx = threadIdx.x; idx < rows * rows; idx += blockDim.x) {
    const int64_t r = idx / rows, c = idx % rows;
    x[idx] = c <= r && !skip(r) ? x[idx] * expf(km[c] - km[r]) : 0.0f;
  }
}
__device__ inline void favor_causal_factor(int64_t rows, const float* km, float* x) {
  favor_causal_factor(rows, km, x, [](int64_t) { return false; });
}

// Whether row r of a chunk reads column c of its C x C tiles: c <= r. The in-chunk
// products skip the other terms (block_matmul_where), so that a NaN in a later key
// never meets its weight of 0.
__device__ inline bool favor_sees(int64_t r, int64_t c) { return c <= r; }

// The state's stabilizer before chunk ch: the running max at its previous key.
__device__ inline float favor_state_max(const FavorChunk& ch, const float* km) {
  return ch.p0 > 0 ? km[-1] : kFavorNoKey;
}

// The chunk's rows of a causal linear-attention product against the state:
//   out = f o (X S) + (F o (X Y)) Z,  f_r = exp(Ms - M_r),
// X [rows, inner] row-major, S [inner, cols], Y [inner, rows], Z [rows, cols]; tile
// [rows, rows] holds F o (X Y). The forward's t (X = QF) and the dQ sweep's dqf
// (X = G_ext) are both this product.
template <class S, class Y, class Z>
__device__ void favor_causal_product(const FavorChunk& ch, const float* km, int64_t cols, int64_t inner,
                                     const float* x, S state, Y y, Z z, float* tile, float* out) {
  const float ms = favor_state_max(ch, km);
  block_matmul(ch.rows, cols, inner, RowMajor{x, inner}, state,
               [&](int64_t r, int64_t c, float v) { out[r * cols + c] = expf(ms - km[r]) * v; });
  block_matmul(ch.rows, ch.rows, inner, RowMajor{x, inner}, y,
               [&](int64_t r, int64_t c, float v) { tile[r * ch.rows + c] = v; });
  __syncthreads();
  favor_causal_factor(ch.rows, km, tile);
  __syncthreads();
  block_matmul_where(ch.rows, cols, ch.rows, RowMajor{tile, ch.rows}, z, favor_sees,
                     [&](int64_t r, int64_t c, float v) { out[r * cols + c] += v; });
}

// Adds the chunk's keys to the state S [m, d+1], moving it from the previous key's M
// to the chunk's last: S = exp(Ms - M') S + (h o KF)^T V_ext, h_j = exp(M_j - M').
__device__ inline void favor_absorb_keys(const FavorInputs& in, const FavorChunk& ch, const float* km,
                                         const FavorWork& w) {
  const int64_t m = in.m, d1 = in.d + 1;
  const float m_new = km[ch.rows - 1], decay = expf(favor_state_max(ch, km) - m_new);
  for (int64_t idx = threadIdx.x; idx < ch.rows * m; idx += blockDim.x)
    w.kfh[idx] = w.kf[idx] * expf(km[idx / m] - m_new);
  __syncthreads();
  block_matmul(m, d1, ch.rows, Transposed{w.kfh, m}, RowMajor{w.vext, d1},
               [&](int64_t k, int64_t c, float x) { w.state[k * d1 + c] = decay * w.state[k * d1 + c] + x; });
}

// d(feature) -> d(pre-activation) in place: softmax kernel times the feature (a zero
// gradient staying 0 where the feature is NaN: gradient_times), ReLU the step of the
// projection; rows flagged by zero_row get 0.
template <class ZeroRow>
__device__ void favor_feature_backward(const FavorInputs& in, int64_t rows, const float* pre, const float* feat,
                                       float* dfeat, ZeroRow zero_row) {
  for (int64_t idx = threadIdx.x; idx < rows * in.m; idx += blockDim.x) {
    const float g = in.relu ? (pre[idx] > 0.0f ? dfeat[idx] : 0.0f) : gradient_times(dfeat[idx], feat[idx]);
    dfeat[idx] = zero_row(idx / in.m) ? 0.0f : g;
  }
}

// Head h's chunks in order against the state S (from 0): each chunk's keys (their
// running maxima M written to kmax_out when given, as the forward does, else read from
// kmax) and values; for a chunk with queries, their features, then
// queries(ch, km) with km the chunk's M; then the keys absorbed into S.
template <class Queries>
__device__ void favor_state_sweep(const FavorInputs& in, const FavorHead& h, const FavorWork& w, const float* kmax,
                                  float* kmax_out, Queries queries) {
  block_fill(w.state, in.m * (in.d + 1), 0.0f);
  for (int64_t index = 0; index < favor_chunks(in); ++index) {
    const FavorChunk ch = favor_chunk(in, index);
    const float* km = kmax + ch.p0;
    __syncthreads();
    favor_chunk_keys(in, h, ch, w, km, kmax_out ? kmax_out + ch.p0 : nullptr);
    favor_extend_values(in, h, ch, w);
    __syncthreads();
    if (ch.i0 >= 0) {
      favor_chunk_queries(in, h, ch, w);
      queries(ch, km);
    }
    favor_absorb_keys(in, ch, km, w);
  }
}

// One block per head: the chunks in order, each read against the state of the
// chunks before it, then absorbed into it.
__global__ inline void favor_forward_kernel(FavorInputs in, float* work, float* o, float* den, float* kmax) {
  const int64_t b = blockIdx.x, m = in.m, d = in.d, d1 = d + 1;
  const FavorWork w(work + b * FavorWork::floats(m, d), m, d);
  float* head_kmax = kmax + b * in.n_k;
  favor_state_sweep(in, FavorHead(in, b), w, head_kmax, head_kmax, [&](const FavorChunk& ch, const float* km) {
    __syncthreads();
    // t = f o (QF S) + (A o F) V_ext,  A = QF KF^T
    favor_causal_product(ch, km, d1, m, w.qf, RowMajor{w.state, d1}, Transposed{w.kf, m}, RowMajor{w.vext, d1}, w.a,
                         w.t);
    __syncthreads();
    for (int64_t r = threadIdx.x; r < ch.rows; r += blockDim.x) {
      const int64_t i = b * in.n_q + ch.i0 + r;
      const float dn = w.t[r * d1 + d], inv = 1.0f / fmaxf(dn, kFavorDenFloor);
      for (int64_t c = 0; c < d; ++c) o[i * d + c] = w.t[r * d1 + c] * inv;
      den[i] = dn;
    }
  });
}

// The backward's forward sweep: dQ of head b, chunk by chunk against the state S.
__device__ inline void favor_query_sweep(const FavorInputs& in, int64_t b, const FavorWork& w, const float* o,
                                         const float* den, const float* kmax, const float* d_o, float* dq) {
  const int64_t m = in.m, d = in.d, d1 = d + 1;
  favor_state_sweep(in, FavorHead(in, b), w, kmax + b * in.n_k, nullptr, [&](const FavorChunk& ch, const float* km) {
    favor_extend_grads(in, ch, o + b * in.n_q * d, den + b * in.n_q, d_o + b * in.n_q * d, w);
    __syncthreads();
    // dqf = f o (G_ext S^T) + (G_ext V_ext^T o F) KF
    favor_causal_product(ch, km, m, d1, w.gext, Transposed{w.state, d1}, Transposed{w.vext, d1}, RowMajor{w.kf, m},
                         w.g, w.dqf);
    __syncthreads();
    favor_feature_backward(in, ch.rows, w.pq, w.qf, w.dqf, [](int64_t) { return false; });
    __syncthreads();
    // dQ = root dP W  (P = root Q W^T); 0 for silent rows
    const float root = sqrtf(in.scale);
    float* dQ = dq + (b * in.n_q + ch.i0) * d;
    block_matmul(ch.rows, d, m, RowMajor{w.dqf, m}, RowMajor{in.w, d},
                 [&](int64_t r, int64_t c, float x) { dQ[r * d + c] = w.silent[r] != 0.0f ? 0.0f : root * x; });
  });
}

// The backward's reverse sweep: dK and dV of head b, chunk by chunk from the last,
// against R (in w.state), the later queries' share held at the chunk's last M.
__device__ inline void favor_key_sweep(const FavorInputs& in, int64_t b, const FavorWork& w, const float* o,
                                       const float* den, const float* kmax, const float* d_o, float* dk, float* dv) {
  const int64_t m = in.m, d = in.d, d1 = d + 1;
  const float root = sqrtf(in.scale);
  const FavorHead h(in, b);
  float* R = w.state;
  block_fill(R, m * d1, 0.0f);
  for (int64_t index = favor_chunks(in) - 1; index >= 0; --index) {
    const FavorChunk ch = favor_chunk(in, index);
    const float* km = kmax + b * in.n_k + ch.p0;
    const float m_last = km[ch.rows - 1], ms = favor_state_max(ch, km);
    float *dK = dk + (b * in.n_k + ch.p0) * d, *dV = dv + (b * in.n_k + ch.p0) * d;
    __syncthreads();
    favor_chunk_keys(in, h, ch, w, km, nullptr);
    favor_extend_values(in, h, ch, w);
    __syncthreads();
    // Later queries: dkf = h o (V_ext R^T), dV = (h o KF) R[:, :d], h_j = exp(M_j - M_last);
    // both 0 when no later query has a gradient (R = 0: nothing to multiply through).
    if (block_all_zero(R, m * d1)) {
      block_fill(w.dkf, ch.rows * m, 0.0f);
      block_fill(dV, ch.rows * d, 0.0f);
    } else {
      for (int64_t idx = threadIdx.x; idx < ch.rows * m; idx += blockDim.x)
        w.kfh[idx] = w.kf[idx] * expf(km[idx / m] - m_last);
      block_matmul(ch.rows, m, d1, RowMajor{w.vext, d1}, Transposed{R, d1},
                   [&](int64_t j, int64_t c, float x) { w.dkf[j * m + c] = expf(km[j] - m_last) * x; });
      __syncthreads();
      block_matmul(ch.rows, d, m, RowMajor{w.kfh, m}, RowMajor{R, d1},
                   [&](int64_t j, int64_t c, float x) { dV[j * d + c] = x; });
    }
    if (ch.i0 >= 0) {
      // The chunk's own queries: dV += (A o F)^T G, dkf += (G_ext V_ext^T o F)^T QF, the
      // silent rows left out (their A and dW rows 0, their features skipped).
      favor_chunk_queries(in, h, ch, w);
      favor_extend_grads(in, ch, o + b * in.n_q * d, den + b * in.n_q, d_o + b * in.n_q * d, w);
      __syncthreads();
      block_matmul(ch.rows, ch.rows, m, RowMajor{w.qf, m}, Transposed{w.kf, m},
                   [&](int64_t r, int64_t c, float x) { w.a[r * ch.rows + c] = x; });
      block_matmul(ch.rows, ch.rows, d1, RowMajor{w.gext, d1}, Transposed{w.vext, d1},
                   [&](int64_t r, int64_t c, float x) { w.g[r * ch.rows + c] = x; });
      __syncthreads();
      auto silent = [&](int64_t r) { return w.silent[r] != 0.0f; };
      favor_causal_factor(ch.rows, km, w.a, silent);
      favor_causal_factor(ch.rows, km, w.g, silent);
      __syncthreads();
      block_matmul(ch.rows, d, ch.rows, Transposed{w.a, ch.rows}, RowMajor{w.gext, d1},
                   [&](int64_t j, int64_t c, float x) { dV[j * d + c] += x; });
      block_matmul_where(ch.rows, m, ch.rows, Transposed{w.g, ch.rows}, RowMajor{w.qf, m},
                         [&](int64_t, int64_t r) { return !silent(r); },
                         [&](int64_t j, int64_t c, float x) { w.dkf[j * m + c] += x; });
    }
    __syncthreads();
    // R moves to the previous chunk's last M and takes this chunk's queries:
    // R = exp(ms - m_last) R + (f o QF)^T G_ext, f_r = exp(ms - M_r); silent rows skipped.
    const float decay = expf(ms - m_last);
    if (ch.i0 >= 0) {
      block_matmul_where(
          m, d1, ch.rows, [&](int64_t k, int64_t r) { return expf(ms - km[r]) * w.qf[r * m + k]; },
          RowMajor{w.gext, d1}, [&](int64_t, int64_t r) { return w.silent[r] == 0.0f; },
          [&](int64_t k, int64_t c, float x) { R[k * d1 + c] = decay * R[k * d1 + c] + x; });
    } else {
      for (int64_t idx = threadIdx.x; idx < m * d1; idx += blockDim.x) R[idx] *= decay;
    }
    // Through the key map: e = P - scale |k|^2 / 2 with P = root K W^T, so
    // dK = root dE W - scale rowsum(dE) k (ReLU: root dP W). Padded keys get 0.
    favor_feature_backward(in, ch.rows, w.pk, w.kf, w.dkf, [&](int64_t j) { return h.padded(ch.p0 + j); });
    __syncthreads();
    for (int64_t j = threadIdx.x; j < ch.rows; j += blockDim.x) {
      float sum = 0.0f;
      for (int64_t c = 0; c < m; ++c) sum += w.dkf[j * m + c];
      w.row[j] = sum;
    }
    __syncthreads();
    const float* K = h.k + ch.p0 * d;
    block_matmul(ch.rows, d, m, RowMajor{w.dkf, m}, RowMajor{in.w, d}, [&](int64_t j, int64_t c, float x) {
      dK[j * d + c] = root * x - (in.relu ? 0.0f : gradient_times(in.scale * w.row[j], K[j * d + c]));
    });
  }
}

// Block 2b sweeps head b forwards for dQ, block 2b + 1 backwards for dK and dV.
__global__ inline void favor_backward_kernel(FavorInputs in, float* work, const float* o, const float* den,
                                             const float* kmax, const float* d_o, float* dq, float* dk, float* dv) {
  const int64_t task = blockIdx.x, b = task / 2;
  const FavorWork w(work + task * FavorWork::floats(in.m, in.d), in.m, in.d);
  if (task % 2 == 0)
    favor_query_sweep(in, b, w, o, den, kmax, d_o, dq);
  else
    favor_key_sweep(in, b, w, o, den, kmax, d_o, dk, dv);
}

template <class Launch>
void favor_causal_forward(const Launch& launch, Backend& memory, const FavorInputs& in, float* o, float* den,
                          float* kmax) {
  if (in.bh == 0 || in.n_k == 0) return;
  Scratch work(memory, in.bh * FavorWork::floats(in.m, in.d));
  launch(favor_forward_kernel, dim3(static_cast<unsigned>(in.bh)), dim3(kFusedThreads), 0, in, work.data(), o, den,
         kmax);
}

template <class Launch>
void favor_causal_backward(const Launch& launch, Backend& memory, const FavorInputs& in, const float* o,
                           const float* den, const float* kmax, const float* d_o, float* dq, float* dk, float* dv) {
  if (in.bh == 0 || in.n_k == 0) return;
  Scratch work(memory, 2 * in.bh * FavorWork::floats(in.m, in.d));
  launch(favor_backward_kernel, dim3(static_cast<unsigned>(2 * in.bh)), dim3(kFusedThreads), 0, in, work.data(), o,
         den, kmax, d_o, dq, dk, dv);
}

}  // namespace ta::cuda_kernels
